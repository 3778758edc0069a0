"""The training bucket: datasets in, model artifacts out, under one KMS key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.settings import Settings
from stacks.shared import AccessLogBucket

DATASETS = "datasets/"  # channels: datasets/<task>/<train|validation>/…
JOBS = "jobs/"  # training job outputs: jobs/<job name>/output/model.tar.gz


class TrainingData(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="FaceFlow training data, model artifacts and training volumes",
            removal_policy=settings.cdk_removal_policy,
        )
        access_logs = AccessLogBucket(self, "AccessLogs", settings=settings)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,  # a registered model's artifact must not change under it
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="training-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteMultipartUploads",
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=settings.cdk_removal_policy,
        )
