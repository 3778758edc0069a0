"""A Lambda function the way every function of the project is built: `ProjectFunction`.

Own role (no managed policies: logging is a scoped inline statement on the function's own log
group), own log group with retention, python3.12 x86_64, X-Ray active tracing, environment named
by `EnvVar` (POWERTOOLS_SERVICE_NAME is the construct id), and for asynchronously invoked
functions (S3, SNS, EventBridge) an encrypted SQS dead-letter queue as on-failure destination.
Every function of every stack goes through this construct: runtime-wide concerns (tracing, a layer
every function gets, environment every function gets) belong here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import (
    CDK_FUNCTION_SKIPS,
    acknowledge,
    acknowledge_wildcards,
    rendered,
    skip_checkov,
)
from stacks.settings import Settings
from stacks.shared.bundling import ARCHITECTURE, RUNTIME, function_code, function_image
from stacks.shared.component import Component
from stacks.shared.iam import index_arn, object_arns, prefix_condition
from stacks.shared.storage import ProjectLogGroup, StackKey
from style_backend.config import EnvVar

# S3, SNS and EventBridge deliver at least once and retry on their side too: two Lambda retries
# cover transient errors; whatever still fails lands in the dead-letter queue for an operator.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = cdk.Duration.hours(6)


# Why a function has no reserved concurrency (checkov CKV_AWS_115), unless it says otherwise.
UNRESERVED = (
    "Bounded where its invocations come from (API Gateway's stage throttle, the S3/SQS/Step "
    "Functions sources); reserved concurrency is kept for the callers of the GPU endpoint, so "
    "the account's unreserved pool is not carved up function by function (RUNBOOK, Scaling)."
)
# Lambda environments hold resource names and settings only (checkov CKV_AWS_173).
PLAIN_ENVIRONMENT = (
    "The environment holds resource names and settings, never a secret; Lambda encrypts it at "
    "rest with its own key. A customer key would add grants and no protection."
)
OUTSIDE_VPC = (
    "Calls only AWS service APIs (IAM-signed, TLS) and serves nothing in a VPC: attaching it to "
    "one would need a NAT gateway or an interface endpoint per service, for no isolation gain."
)


class DeadLetterQueue(sqs.Queue):
    """KMS-encrypted (its stack's `StackKey`: a failed event names users and objects), TLS-only,
    14 days: where an event that failed every retry waits for operators.

    `sqs_managed_because`: SQS-managed encryption instead, for a queue whose messages hold no
    personal data and whose sender cannot use a customer key; the reason becomes the checkov skip.
    `settings` defaults to the app's context (removal policy of the stack key); `of` says whose
    failures it holds (the cdk-nag acknowledgement)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings | None = None,
        sqs_managed_because: str | None = None,
        of: str = "the on-failure destination of an async Lambda",
        fifo: bool = False,
    ) -> None:
        settings = settings or Settings.from_context(scope)
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED
            if sqs_managed_because
            else sqs.QueueEncryption.KMS,
            encryption_master_key=None if sqs_managed_because else StackKey.of(scope, settings),
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
            fifo=fifo or None,
        )
        if sqs_managed_because:
            skip_checkov(self, "CKV_AWS_27", sqs_managed_because)
        acknowledge(
            self,
            "AwsSolutions-SQS3",
            f"This queue IS a dead-letter queue: {of}.",
        )


def _packaging(image: str | None, handler: str, group: str, layers) -> dict:
    """A container image (its CMD the handler, no layers), or python3.12 code with layers."""
    if image:
        return {"code": function_image(image, handler)}
    return {
        "runtime": RUNTIME,
        "handler": handler,
        "code": function_code(group),
        "layers": list(layers),
    }


@jsii.implements(lambda_.IDestination)
class _QueueDestination:
    """An on-failure destination that grants nothing itself (ProjectFunction writes the grant)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(self, _scope: Construct, _fn: lambda_.IFunction, _options=None):
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)


class ProjectFunction(Component):
    """The function (`.function`, this construct's `Default` child: logical id `<id>…`), its
    `<id>Role`, `<id>Logs` and, with `asynchronous=True`, `<name>DeadLetterQueue`
    (`FaceCropFunction` → `FaceCropDeadLetterQueue`).

    `group` is the handler folder under lambda/ (its code asset); `handler` is `<module>.<name>`.
    With `image` (a Dockerfile under lambda/, e.g. "albums/Dockerfile") the function is a
    container image built from lambda/, `handler` its CMD, and it takes no layers.
    `reserved_concurrency`: its share of the account's concurrency (for the GPU endpoint's
    callers); without it the checkov skip says why none (`UNRESERVED`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        group: str,
        settings: Settings,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[EnvVar, str],
        description: str,
        memory_size: int = 256,
        timeout: cdk.Duration | None = None,
        asynchronous: bool = False,
        image: str | None = None,
        reserved_concurrency: int | None = None,
        dead_letters_sqs_managed_because: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = ProjectLogGroup(self, f"{construct_id}Logs", settings=settings)
        self.role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{construct_id}: only what docs/architecture.md grants it",
        )
        logs_actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
        self.allow("WriteOwnLogs", logs_actions, [self.log_group.log_group_arn])
        self.function = (lambda_.DockerImageFunction if image else lambda_.Function)(
            self,
            "Default",
            **_packaging(image, handler, group, layers),
            architecture=ARCHITECTURE,
            environment={
                EnvVar.POWERTOOLS_SERVICE_NAME.value: construct_id,
                **{name.value: value for name, value in environment.items()},
            },
            tracing=lambda_.Tracing.ACTIVE,  # Powertools' Tracer writes the handler's segments
            memory_size=memory_size,
            timeout=timeout or cdk.Duration.seconds(15),
            role=self.role,
            log_group=self.log_group,
            description=description,
            reserved_concurrent_executions=reserved_concurrency,
        )
        self._settings = settings
        self._acknowledge_runtime(image=bool(image))
        self._skip_checkov(asynchronous, reserved_concurrency)
        self.dead_letter_queue = (
            self._dead_letter_queue(construct_id, dead_letters_sqs_managed_because)
            if asynchronous
            else None
        )

    def _acknowledge_runtime(self, *, image: bool) -> None:
        # Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role.
        acknowledge_wildcards(
            self.role,
            ["*"],
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions: active tracing needs them on *.",
        )
        if image:
            return  # an image's runtime is its base image (lambda/albums/Dockerfile)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.12 on purpose: the imaging layer's wheels (dlib-bin, mediapipe) and the "
            "layer itself are built for CPython 3.12.",
        )

    def _skip_checkov(self, asynchronous: bool, reserved_concurrency: int | None) -> None:
        if reserved_concurrency is None:
            skip_checkov(self.function, "CKV_AWS_115", UNRESERVED)
        skip_checkov(
            self.function,
            "CKV_AWS_116",
            "Asynchronous failures go to its on-failure destination (EventInvokeConfig: the "
            "event, the error and the attempts), a richer record than a DeadLetterConfig."
            if asynchronous
            else "Invoked synchronously (API Gateway, Step Functions, an SQS event source, a "
            "custom resource): the caller sees the error; a DLQ only takes async events.",
        )
        skip_checkov(self.function, "CKV_AWS_117", OUTSIDE_VPC)
        skip_checkov(self.function, "CKV_AWS_173", PLAIN_ENVIRONMENT)

    def _dead_letter_queue(self, construct_id: str, sqs_managed_because: str | None):
        queue = DeadLetterQueue(
            self,
            f"{construct_id.removesuffix('Function')}DeadLetterQueue",
            settings=self._settings,
            sqs_managed_because=sqs_managed_because,
        )
        self.function.configure_async_invoke(
            on_failure=_QueueDestination(queue),
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
        )
        # What Lambda needs, as this role, to put a failed event on the queue (CDK's own
        # SqsDestination would grant kms:ReEncrypt* and kms:GenerateDataKey* as well).
        self.allow("SendFailedEvents", ["sqs:SendMessage"], [queue.queue_arn])
        if queue.encryption_master_key is not None:
            self.allow(
                "EncryptFailedEvents",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                [queue.encryption_master_key.key_arn],
            )
        return queue

    # ------------------------------------------------------------------ triggers

    def trigger_on_objects(self, bucket: s3.IBucket, prefix: str) -> None:
        """Invoked for every object created under `prefix` (ObjectCreated:*, not only Put:
        browser POST uploads and multipart uploads count too)."""
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.function),
            s3.NotificationKeyFilter(prefix=prefix),
        )

    # ------------------------------------------------------------------ permissions

    def allow(
        self,
        sid: str,
        actions: Sequence[str],
        resources: Sequence[str],
        *,
        wildcard_reason: str | None = None,
        **kw,
    ) -> None:
        """Adds one named statement to the function's own role.

        A resource with a wildcard needs `wildcard_reason`: it becomes the cdk-nag acknowledgement
        of exactly that resource.
        """
        self.role.add_to_principal_policy(
            iam.PolicyStatement(sid=sid, actions=list(actions), resources=list(resources), **kw)
        )
        wildcards = [r for r in resources if "*" in rendered(self.role, r)]
        if wildcards and not wildcard_reason:
            raise ValueError(f"{sid}: {wildcards} has a wildcard; say why (wildcard_reason)")
        if wildcards:
            acknowledge_wildcards(self.role, wildcards, wildcard_reason)

    def allow_listing(self, sid: str, bucket: s3.IBucket, *prefixes: str) -> None:
        """s3:ListBucket under key prefixes only (see prefix_condition)."""
        self.allow(
            sid, ["s3:ListBucket"], [bucket.bucket_arn], conditions=prefix_condition(*prefixes)
        )

    def allow_objects(
        self, sid: str, actions: Sequence[str], bucket: s3.IBucket, *prefixes: str
    ) -> None:
        """Object actions under key prefixes of the base bucket (`uploads/` → `uploads/*`)."""
        self.allow(
            sid,
            actions,
            object_arns(bucket, *prefixes),
            wildcard_reason=f"Objects under {', '.join(prefixes)} only: the key prefixes "
            "docs/architecture.md grants this function.",
        )

    def allow_table(
        self, name: str, table: ddb.ITable, *actions: str, indexes: Sequence[str] = ()
    ) -> None:
        """`dynamodb:<action>` on one table (and the named indexes), statement id `<name>Table`;
        with a customer key, that key too (`<name>TableKey`), only through DynamoDB: Decrypt
        for reads, Encrypt and GenerateDataKey as well for writes."""
        resources = [table.table_arn, *(index_arn(table, i) for i in indexes)]
        self.allow(f"{name}Table", [f"dynamodb:{a}" for a in actions], resources)
        if table.encryption_key is None:
            return
        key_actions = ["kms:Decrypt", "kms:DescribeKey"]
        if set(actions) - _TABLE_READS:
            key_actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        region = cdk.Stack.of(self).region
        self.allow(
            f"{name}TableKey",
            key_actions,
            [table.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
        )


_TABLE_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable"})


def skip_cdk_functions(scope: Construct) -> None:
    """The checkov skips of CDK's own functions under `scope` (a custom resource Provider)."""
    for child in scope.node.find_all():
        if (
            isinstance(child, cdk.CfnResource)
            and child.cfn_resource_type == "AWS::Lambda::Function"
        ):
            for check, reason in CDK_FUNCTION_SKIPS.items():
                skip_checkov(child, check, reason)
