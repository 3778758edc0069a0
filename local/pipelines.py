"""The templates' queues, S3 → SQS notifications, SQS → Lambda event source mappings and Step
Functions state machines, created in moto and run locally.

State machines are created in moto from their ASL definition and executed by moto 5's own
interpreter (`stepfunctions.execute_state_machine`); their Lambda tasks reach the local function
workers through local.lambda_front, which the interpreter is pointed at (route_tasks_through).
Event source mappings are drained by the dispatcher's poller (local/dispatcher.py) as Lambda's
poller does: a batch per invocation, deleted on success, visible again on failure (moto's redrive
policy then moves a message that kept failing to the dead-letter queue).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from local.cfn import ACCOUNT
from local.dispatcher import MAX_BATCH, Dispatcher, Trigger
from local.topology import EventSourceMappingSpec, FunctionRef, Topology

log = logging.getLogger("local.pipelines")
LOCAL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/local-state-machine"


def provision(topology: Topology, client: Callable[[str], Any]) -> None:
    """Queues, S3 → SQS notifications and state machines. State machine ARNs are bound in the
    resolver, so the functions' environment (read afterwards) names them."""
    from moto.core.config import default_user_config

    # Before any state machine exists: moto keeps executable ones in another backend.
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    _copy_state_machines_without_executions()
    sqs = client("sqs")
    for queue in topology.queues():
        sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)
    s3 = client("s3")
    for bucket, configs in topology.s3_queue_notifications().items():
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        current.pop("ResponseMetadata", None)
        current["QueueConfigurations"] = current.get("QueueConfigurations", []) + configs
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)
    sfn = client("stepfunctions")
    for machine in topology.state_machines():
        arn = sfn.create_state_machine(
            name=machine.name, definition=machine.definition, roleArn=LOCAL_ROLE
        )["stateMachineArn"]
        topology.resolver.bind(machine.stack, machine.logical_id, arn, Arn=arn, Name=machine.name)


def _copy_state_machines_without_executions() -> None:
    """moto 5.2.1's StartExecution deep-copies the state machine, executions included; a running
    execution holds locks, so a second concurrent start fails with a 500. The copy never needs
    the other executions: copy everything else."""
    from moto.stepfunctions.models import StateMachineInstance

    def deepcopy_without_executions(self, memo):
        clone = copy.copy(self)
        for name, value in vars(self).items():
            if name != "executions":
                setattr(clone, name, copy.deepcopy(value, memo))
        clone.executions = []
        return clone

    StateMachineInstance.__deepcopy__ = deepcopy_without_executions


def route_tasks_through(front_port: int) -> Callable[[], str]:
    """moto's interpreter (in this process, where its server runs) calls services through the
    front: Lambda tasks reach the local workers. It reads the port from MOTO_PORT through
    `moto_server_port`; replacing that function of its boto client module (not the process's
    environment, which the runtime never changes) points only the interpreter at the front."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    port = str(front_port)
    previous = boto_client.moto_server_port
    boto_client.moto_server_port = lambda: port
    return previous  # what `restore_routing` puts back when this runtime stops


def restore_routing(previous: Callable[[], str]) -> None:
    """A second runtime in one process (a test's small app) stopping hands the interpreter back
    to the one that was running before it."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    boto_client.moto_server_port = previous


def mapping_triggers(sqs: Any, mappings: list[EventSourceMappingSpec]) -> list[Trigger]:
    """The dispatcher's triggers for SQS event source mappings: no DLQ of their own (the queue's
    redrive policy acts), batches of up to BatchSize (ReceiveMessage gives at most 10)."""
    return [
        Trigger(
            "sqs",
            mapping.function,
            sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"],
            mapping.queue_arn,
            batch_size=min(mapping.batch_size, MAX_BATCH),
            reports_item_failures=mapping.reports_item_failures,
        )
        for mapping in mappings
    ]


class LocalPipelines:
    """What local/runtime.py starts after the function workers: the Lambda front for moto's
    interpreter and the event source mapping pollers."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.front = None
        self.poller = None
        self._previous_routing: Callable[[], str] | None = None

    def _invoke_named(self, function: str, event: Any) -> Any:
        backend = self.backend
        owner = backend.resolver.arn_owner(function) if function.startswith("arn:") else None
        ref = FunctionRef(*owner) if owner else None
        if ref is None:
            ref = next((h.ref for h in backend.hosts.values() if h.spec.name == function), None)
        if ref is None:
            raise LookupError(function)
        return backend.invoke(ref, event)

    def start(self) -> LocalPipelines:
        from local.lambda_front import serve_lambda_front

        backend = self.backend
        self.front = serve_lambda_front(self._invoke_named, backend.aws_url, backend.host)
        self._previous_routing = route_tasks_through(self.front.port)
        sqs = backend.client("sqs")
        triggers = mapping_triggers(sqs, backend.topology.event_source_mappings())
        self.poller = Dispatcher(sqs, triggers, backend.invoke, pollers_per_trigger=1)
        self.poller.start()
        return self

    def stop(self) -> None:
        if self._previous_routing is not None:
            restore_routing(self._previous_routing)
            self._previous_routing = None
        if self.poller is not None:
            self.poller.stop()
        if self.front is not None:
            self.front.shutdown()
            self.front.server_close()
