"""A Lambda function the way every Style Backend function is built.

Own role (no managed policies: logging is a scoped inline statement on the function's own log
group), own log group with retention, python3.12 x86_64, X-Ray active tracing, environment named
by `EnvVar` (POWERTOOLS_SERVICE_NAME is the construct id), and for asynchronously invoked
functions an encrypted SQS dead-letter queue as on-failure destination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.lambdas.bundling import ARCHITECTURE, RUNTIME, function_code
from stacks.nag import acknowledge, acknowledge_wildcards, rendered
from stacks.settings import Settings
from style_backend.config import EnvVar

# S3, SNS and EventBridge deliver at least once and retry on their side too: two Lambda retries
# cover transient errors; whatever still fails lands in the dead-letter queue for an operator.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = cdk.Duration.hours(6)


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
    )
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        "This queue IS a dead-letter queue: the on-failure destination of an async Lambda.",
    )
    return queue


def object_arns(bucket: s3.IBucket, *prefixes: str) -> list[str]:
    """ARNs of the objects under each key prefix (`uploads/` → `…/uploads/*`)."""
    return [bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]


def prefix_condition(*prefixes: str) -> dict[str, dict[str, list[str]]]:
    """s3:ListBucket limited to key prefixes (`uploads/` → `uploads/*`). Listing is what lets S3
    answer a missing key with 404 rather than 403, so code can tell "gone" from "refused"."""
    return {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}


class StyleFunction:
    """Builds `<id>` (the function), `<id>Role` and `<id>Logs` as siblings in `scope`.

    Siblings rather than a wrapper construct keep the function's logical id `<id>…`, the name
    docs/architecture.md and the local runtime know it by.
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
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        self.log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=settings.cdk_log_retention,
            removal_policy=settings.cdk_removal_policy,
        )
        self.role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{construct_id}: only what docs/architecture.md grants it",
        )
        self.allow(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [self.log_group.log_group_arn],
        )
        self.function = lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=function_code(group),
            layers=list(layers),
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
        # Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role.
        acknowledge_wildcards(
            self.role,
            ["*"],
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions: active tracing needs them on *.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.12 on purpose: the imaging layer's wheels (dlib-bin, mediapipe) and the "
            "layer itself are built for CPython 3.12.",
        )
        self.dead_letter_queue = dead_letter_queue
        if dead_letter_queue is not None:
            self.function.configure_async_invoke(
                on_failure=destinations.SqsDestination(dead_letter_queue),
                retry_attempts=ASYNC_RETRY_ATTEMPTS,
                max_event_age=ASYNC_MAX_EVENT_AGE,
            )

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
