"""The project's bucket, table, log group and key: encrypted, private, kept or destroyed as the
settings say (`removal_policy`)."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings import Settings
from style_backend.tables import TTL_ATTRIBUTE


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
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=settings.cdk_removal_policy,
            **kw,
        )


class ProjectTable(ddb.Table):
    """On-demand, encrypted (with `encryption_key` when given), point-in-time recovery; string
    keys; `ttl` when `ttl=True`.

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
    """Retention `log_retention_days`; kept or destroyed with its stack as the settings say."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            retention=settings.cdk_log_retention,
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
