"""The project's bucket, table, log group and keys: encrypted, private, kept or destroyed as the
settings say (`removal_policy`)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge, skip_checkov
from stacks.settings import Settings
from style_backend.storage.keys import TTL_ATTRIBUTE

# Why a bucket of personal data keeps no versions (checkov CKV_AWS_21).
ERASURE_OVER_VERSIONS = (
    "Unversioned on purpose: its objects are personal data that erasure (user and album "
    "deletion, expiry with the process) must remove for good; versioning would keep every "
    "deleted photo as a noncurrent version that no erasure path deletes."
)


class SecureBucket(s3.Bucket):
    """SSE-S3 (SSE-KMS with bucket keys given `encryption_key`), no public access, TLS only,
    owner-enforced objects (no ACLs)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        encryption_key: kms.IKey | None = None,
        unversioned_because: str = ERASURE_OVER_VERSIONS,
        **kw,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            encryption=s3.BucketEncryption.KMS
            if encryption_key
            else s3.BucketEncryption.S3_MANAGED,
            encryption_key=encryption_key,
            bucket_key_enabled=True if encryption_key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=kw.pop("object_ownership", s3.ObjectOwnership.BUCKET_OWNER_ENFORCED),
            removal_policy=settings.cdk_removal_policy,
            **kw,
        )
        if not kw.get("versioned"):
            skip_checkov(self, "CKV_AWS_21", unversioned_because)


class AccessLogBucket(SecureBucket):
    """Access logs of other buckets or a distribution: SSE-S3 (log delivery cannot use a KMS
    key), versioned so a deleted or overwritten log stays recoverable for `NONCURRENT_DAYS`,
    expired after `keep_days`. It logs nowhere itself (into itself would loop).

    `acl_writes=True` for CloudFront standard logging, which still writes with object ACLs."""

    NONCURRENT_DAYS = 30

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        keep_days: int = 365,
        acl_writes: bool = False,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            settings=settings,
            versioned=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER
            if acl_writes
            else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=cdk.Duration.days(keep_days),
                    noncurrent_version_expiration=cdk.Duration.days(self.NONCURRENT_DAYS),
                )
            ],
        )
        reason = "This is an access log bucket itself; logging it into itself would loop."
        acknowledge(self, "AwsSolutions-S1", reason)
        skip_checkov(self, "CKV_AWS_18", reason)


class ProjectTable(ddb.Table):
    """On-demand, encrypted (with `encryption_key` when given), point-in-time recovery; string
    keys; `ttl` when `ttl=True`; a stream of `stream` images when given (live progress).

    Deletion protection follows `removal_policy=retain`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        partition: str,
        sort: str | None = None,
        ttl: bool = False,
        encryption_key: kms.IKey | None = None,
        stream: ddb.StreamViewType | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            partition_key=ddb.Attribute(name=partition, type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name=sort, type=ddb.AttributeType.STRING) if sort else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED
            if encryption_key
            else ddb.TableEncryption.AWS_MANAGED,
            encryption_key=encryption_key,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE if ttl else None,
            stream=stream,
            deletion_protection=settings.removal_policy == "retain",
            removal_policy=settings.cdk_removal_policy,
        )

    def add_index(self, name: str, partition: str, sort: str | None = None) -> None:
        """A global secondary index on string attributes (projection ALL)."""
        self.add_global_secondary_index(
            index_name=name,
            partition_key=ddb.Attribute(name=partition, type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name=sort, type=ddb.AttributeType.STRING) if sort else None,
        )


class ProjectLogGroup(logs.LogGroup):
    """Retention `log_retention_days`, encrypted with its stack's `StackKey` (function logs name
    users and objects); kept or destroyed with its stack as the settings say."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            retention=settings.cdk_log_retention,
            encryption_key=StackKey.of(scope, settings),
            removal_policy=settings.cdk_removal_policy,
        )


class ProjectKey(kms.Key):
    """A customer-managed KMS key with yearly rotation."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: Settings, description: str
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            enable_key_rotation=True,
            description=description,
            removal_policy=settings.cdk_removal_policy,
        )


class StackKey(ProjectKey):
    """One per stack (`StackKey.of`), created with the first user: its log groups and its
    queues. The key policy is the account's (IAM policies decide who may use it: each function's
    role names the key) plus CloudWatch Logs, for log groups of this account and region only."""

    CONSTRUCT_ID = "StackKey"

    def __init__(self, stack: cdk.Stack, *, settings: Settings) -> None:
        super().__init__(
            stack,
            self.CONSTRUCT_ID,
            settings=settings,
            description=f"{stack.stack_name}: its log groups and queues",
        )
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )

    @classmethod
    def of(cls, scope: Construct, settings: Settings) -> StackKey:
        stack = cdk.Stack.of(scope)
        found = stack.node.try_find_child(cls.CONSTRUCT_ID)
        return found if isinstance(found, StackKey) else cls(stack, settings=settings)
