"""The album pipeline: raw incoming/ ObjectCreated:* → SQS (+DLQ) → starter → Step Functions.

The state machine (ASL): ProcessPhoto (a Map over the job's photos: one invocation per photo reads
its original once, then ingests it, finds and aligns its faces and embeds them) → Dedupe (after
the faces: photos whose faces differ are never duplicates) → Cluster → Notify. The steps that
decode photos, find faces or cluster them run
in the FaceFlow image (lambda/albums/Dockerfile); Notify and FailJob are zip functions. Every task
retries transient failures with backoff and catches the
rest into FailJob, which writes the job FAILED with the reason. Alarms on the DLQ's depth, failed
executions and the queue's oldest message go to the operators' topic.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from faceflow.config import AlbumEnv
from faceflow.storage.keys import INCOMING, TENANT
from stacks.albums.cluster_writer import ClusterWriter
from stacks.nag import acknowledge
from stacks.settings import Settings
from stacks.shared import Component, DeadLetterQueue, ProjectFunction, ProjectLogGroup, StackKey
from stacks.shared.alarms import operator_alarms
from stacks.shared.queues import EncryptedQueueDestination

# Error names the Retry of every task matches: Lambda's own transient failures and the steps'
# TransientStepError (faceflow.edge.pipeline). Anything else is permanent: Catch → FailJob.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientStepError",
]
RAW_PREFIX = f"{INCOMING}/{TENANT}/"  # uploads: the starter moves each to its raw key
# (state, handler in lambda/albums/album_steps.py, memory MB, timeout s, per photo, image)
# Memory buys CPU on Lambda: detection and embedding are CPU-bound (docs/faceflow.md, costs).
STEPS = (
    ("ProcessPhoto", "process_photo", 2048, 180, True, True),
    ("Dedupe", "dedupe", 1024, 300, False, True),
    ("Notify", "notify", 256, 60, False, False),
)
PHOTO_MAP_CONCURRENCY = 8
CLUSTER_AFTER = "Dedupe"  # the Cluster state (the album's one writer: ClusterWriter) follows it

FunctionFactory = Callable[..., ProjectFunction]


class AlbumPipeline(Component):
    """The upload queue, the state machine and its step functions, the job starter, alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        raw: s3.IBucket,
        make_function: FunctionFactory,
        operations_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._make_function = make_function
        self.dead_letter_queue = DeadLetterQueue(
            self,
            "AlbumUploadDeadLetterQueue",
            settings=settings,
            of="the album upload queue's redrive target",
        )
        self.queue = sqs.Queue(
            self,
            "AlbumUploadQueue",
            # Its messages name users' photos (tenant/{userId}/…): the stack's customer key.
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=StackKey.of(self, settings),
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(6 * 60),  # 6× the starter's timeout
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=5
            ),
        )
        raw.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            EncryptedQueueDestination(self.queue),
            s3.NotificationKeyFilter(prefix=RAW_PREFIX),
        )
        self.functions: dict[str, ProjectFunction] = {}
        self.cluster_writer = ClusterWriter(
            self, "AlbumClusterWriter", settings=settings, make_function=make_function
        )
        self.state_machine = self._state_machine(self._definition())
        self.cluster_writer.grant_answers(self.state_machine)
        self.starter = self._starter()
        self._alarms(operations_topic)

    def _definition(self) -> sfn.IChainable:
        """The STEPS in order (the per-photo ones as Maps over the job's photos); every one
        catches into FailJob."""
        fail = self._task("FailJob", self._step_function("FailJob", "fail_job"))
        fail.next(sfn.Fail(self, "JobFailed", cause="The job failed; its item has the reason."))
        first: sfn.IChainable | None = None
        current: sfn.INextable | None = None
        for state, handler, memory, timeout, per_photo, image in STEPS:
            fn = self._step_function(state, handler, memory, timeout, image=image)
            step = self._photo_map(state, fn) if per_photo else self._task(state, fn)
            step.add_catch(fail, result_path="$.error")
            if current is None:
                first = step
            else:
                current.next(step)
            current = step
            if state == CLUSTER_AFTER:
                cluster = self._cluster_task()
                cluster.add_catch(fail, result_path="$.error")
                current.next(cluster)
                current = cluster
        current.next(sfn.Succeed(self, "JobSucceeded"))
        return first

    def _photo_map(self, state: str, fn: ProjectFunction) -> sfn.Map:
        """`state` as a Map over $.photoIds, its task `<state>Photo`; the job passes on as is."""
        return sfn.Map(
            self,
            state,
            items_path="$.photoIds",
            item_selector={
                "albumId.$": "$.albumId",
                "userId.$": "$.userId",
                "jobId.$": "$.jobId",
                "photoId.$": "$$.Map.Item.Value",
            },
            max_concurrency=PHOTO_MAP_CONCURRENCY,
            result_path=sfn.JsonPath.DISCARD,
        ).item_processor(self._task(f"{state}Photo", fn))

    def _cluster_task(self) -> tasks.SqsSendMessage:
        """Cluster: the job to the album's FIFO message group, answered by the album's one
        writer with the job (faceflow.edge.clusterer)."""
        task = tasks.SqsSendMessage(
            self,
            "Cluster",
            queue=self.cluster_writer.queue,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            message_body=sfn.TaskInput.from_object(
                {
                    "albumId": sfn.JsonPath.string_at("$.albumId"),
                    "userId": sfn.JsonPath.string_at("$.userId"),
                    "jobId": sfn.JsonPath.string_at("$.jobId"),
                    "photoIds": sfn.JsonPath.list_at("$.photoIds"),
                    "taskToken": sfn.JsonPath.task_token,
                }
            ),
            message_group_id=sfn.JsonPath.string_at("$.albumId"),
            # A message lost past its retries (the DLQ alarm) fails the job, never hangs it.
            task_timeout=sfn.Timeout.duration(cdk.Duration.minutes(30)),
        )
        task.add_retry(
            errors=[*TRANSIENT_ERRORS, "States.Timeout"],
            interval=cdk.Duration.seconds(self._settings.album_retry_interval_seconds),
            max_attempts=self._settings.album_retry_attempts,
            backoff_rate=2,
        )
        return task

    def _state_machine(self, chain: sfn.IChainable) -> sfn.StateMachine:
        execution_logs = ProjectLogGroup(self, "AlbumExecutionLogs", settings=self._settings)
        machine = sfn.StateMachine(
            self,
            "AlbumStateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            timeout=cdk.Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=execution_logs, level=sfn.LogLevel.ALL),
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray actions have no resource-level permissions "
            "(AWS documents Resource * for logs:*LogDelivery* and xray:Put*).",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Sending to the KMS-encrypted cluster queue (CDK's grant for an SqsSendMessage task): "
            "the data key's variants, on the stack key only.",
        )
        for fn in self.functions.values():
            logical_id = cdk.Stack.of(self).get_logical_id(fn.function.node.default_child)
            acknowledge(
                machine,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "Invoking any version/alias of this one step function (CDK's grant for a task).",
            )
        return machine

    def _starter(self) -> ProjectFunction:
        starter = self._make_function(
            "AlbumJobStarterFunction",
            "album_steps.start",
            "raw/ uploads (via SQS) → jobs → state machine executions",
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
        )
        starter.function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=10, max_batching_window=cdk.Duration.seconds(2)
            )
        )
        self.grant_start_jobs(starter)
        return starter

    def grant_start_jobs(self, fn: ProjectFunction) -> None:
        """Starting jobs (faceflow.edge.starter.start_job): the starter's, and the album API's for a
        photo released from DUPLICATE."""
        fn.function.add_environment(
            AlbumEnv.STATE_MACHINE_ARN.value, self.state_machine.state_machine_arn
        )
        fn.allow(
            "StartJobExecutions", ["states:StartExecution"], [self.state_machine.state_machine_arn]
        )

    def _step_function(
        self,
        state: str,
        handler: str,
        memory: int = 256,
        timeout: int = 60,
        *,
        image: bool = False,
    ) -> ProjectFunction:
        fn = self._make_function(
            f"Album{state}Function",
            f"album_steps.{handler}",
            f"Album pipeline step {state}",
            memory_size=memory,
            timeout=cdk.Duration.seconds(timeout),
            image=image,
        )
        self.functions[state] = fn
        return fn

    def _task(self, state: str, fn: ProjectFunction) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            state,
            lambda_function=fn.function,
            output_path="$.Payload",
            retry_on_service_exceptions=False,  # our Retry below covers them, with our timing
        )
        task.add_retry(
            errors=TRANSIENT_ERRORS,
            interval=cdk.Duration.seconds(self._settings.album_retry_interval_seconds),
            max_attempts=self._settings.album_retry_attempts,
            backoff_rate=2,
        )
        return task

    def _alarms(self, topic: sns.ITopic) -> None:
        alarms = (
            (
                "AlbumDeadLetterDepth",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=cdk.Duration.minutes(5), statistic="Maximum"
                ),
                1,
                "Album uploads that could not start a job",
            ),
            (
                "AlbumExecutionsFailed",
                self.state_machine.metric_failed(period=cdk.Duration.minutes(5), statistic="Sum"),
                1,
                "Album pipeline executions that failed",
            ),
            (
                "AlbumQueueAge",
                self.queue.metric_approximate_age_of_oldest_message(
                    period=cdk.Duration.minutes(5), statistic="Maximum"
                ),
                600,
                "Album uploads waiting more than 10 minutes for a job",
            ),
        )
        self.alarms = self.cluster_writer.alarms(topic) + operator_alarms(self, topic, alarms)
