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
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_wildcards, rendered
from stacks.settings import Settings
from stacks.shared.bundling import ARCHITECTURE, RUNTIME, function_code, function_image
from stacks.shared.component import Component
from stacks.shared.iam import index_arn, object_arns, prefix_condition
from stacks.shared.storage import ProjectLogGroup
from style_backend.config import EnvVar

# S3, SNS and EventBridge deliver at least once and retry on their side too: two Lambda retries
# cover transient errors; whatever still fails lands in the dead-letter queue for an operator.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = cdk.Duration.hours(6)


class DeadLetterQueue(sqs.Queue):
    """Encrypted, TLS-only, 14 days: where an event that failed every retry waits for operators."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self,
            "AwsSolutions-SQS3",
            "This queue IS a dead-letter queue: the on-failure destination of an async Lambda.",
        )


class ProjectFunction(Component):
    """The function (`.function`, this construct's `Default` child: logical id `<id>…`), its
    `<id>Role`, `<id>Logs` and, with `asynchronous=True`, `<name>DeadLetterQueue`
    (`FaceCropFunction` → `FaceCropDeadLetterQueue`).

    `group` is the handler folder under lambda/ (its code asset); `handler` is `<module>.<name>`.
    With `image` (a Dockerfile under lambda/, e.g. "albums/Dockerfile") the function is a
    container image built from lambda/, `handler` its CMD, and it takes no layers.
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
        packaging = (
            {"code": function_image(image, handler)}
            if image
            else {
                "runtime": RUNTIME,
                "handler": handler,
                "code": function_code(group),
                "layers": list(layers),
            }
        )
        self.function = (lambda_.DockerImageFunction if image else lambda_.Function)(
            self,
            "Default",
            **packaging,
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
        )
        self._acknowledge_runtime(image=bool(image))
        self.dead_letter_queue = self._dead_letter_queue(construct_id) if asynchronous else None

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

    def _dead_letter_queue(self, construct_id: str) -> DeadLetterQueue:
        queue = DeadLetterQueue(self, f"{construct_id.removesuffix('Function')}DeadLetterQueue")
        self.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(queue),
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
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
        """`dynamodb:<action>` on one table (and the named indexes), statement id `<name>Table`."""
        resources = [table.table_arn, *(index_arn(table, i) for i in indexes)]
        self.allow(f"{name}Table", [f"dynamodb:{a}" for a in actions], resources)
