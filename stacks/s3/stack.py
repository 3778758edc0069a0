"""The base bucket: uploads, crops, style images, inference requests/outputs and results.

Event notifications are NOT added here: the Lambda stack adds them to its reference of this bucket
with CDK's own `add_event_notification` (which merges, never overwrites), so this stack does not
depend on the functions and there is no cross-stack cycle.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings import Settings
from stacks.shared import AccessLogBucket, ProjectStack, SecureBucket
from style_backend.storage import keys

# Temporary prefixes: a selfie, its crop and the inference request/outputs are only needed while
# the process runs; they expire with the Process item (results/ and base/ are kept).
TEMPORARY_PREFIXES = (keys.UPLOADS, keys.CROPS, keys.INFERENCE)


class StorageStack(ProjectStack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.access_logs_bucket = AccessLogBucket(self, "AccessLogsBucket", settings=settings)
        self.bucket = SecureBucket(
            self,
            "BaseBucket",
            settings=settings,
            bucket_name=settings.s3_base_bucket_name or None,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="base-bucket/",
            cors=[_browser_cors(settings)],
            lifecycle_rules=_lifecycle_rules(settings),
        )
        cdk.CfnOutput(self, "BucketName", value=self.bucket.bucket_name)
        # Named exports: consumers import them by a name that does not depend on CDK's hashing,
        # so their IAM findings (cdk-nag) and templates stay stable.
        self.bucket_arn_import = self.export_value(
            self.bucket.bucket_arn, name=f"{self.stack_name}-BaseBucketArn"
        )
        self.bucket_name_import = self.export_value(
            self.bucket.bucket_name, name=f"{self.stack_name}-BaseBucketName"
        )

    def bucket_reference(self, scope: Construct, construct_id: str, **attributes) -> s3.IBucket:
        """The base bucket as seen from another stack (deploy that stack after this one)."""
        cdk.Stack.of(scope).add_stack_dependency(self, "imports the base bucket")
        return s3.Bucket.from_bucket_attributes(
            scope,
            construct_id,
            bucket_arn=self.bucket_arn_import,
            bucket_name=self.bucket_name_import,
            **attributes,
        )


def _browser_cors(settings: Settings) -> s3.CorsRule:
    """Browsers upload with the presigned POST and fetch results with presigned GETs."""
    return s3.CorsRule(
        allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET],
        allowed_origins=settings.cors_origins,
        allowed_headers=["*"],
        exposed_headers=["ETag"],
        max_age=3000,
    )


def _lifecycle_rules(settings: Settings) -> list[s3.LifecycleRule]:
    expire_temporary = [
        s3.LifecycleRule(
            id=f"Expire-{prefix.strip('/')}",
            prefix=prefix,
            expiration=cdk.Duration.days(settings.process_ttl_days),
        )
        for prefix in TEMPORARY_PREFIXES
    ]
    abort_multipart = s3.LifecycleRule(
        id="AbortIncompleteMultipartUploads",
        abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
    )
    return [*expire_temporary, abort_multipart]
