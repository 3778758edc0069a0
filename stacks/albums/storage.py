"""FaceFlow's album buckets: raw uploads, derived (thumbnails, crops), embeddings, exports.

One customer-managed KMS key (rotated) encrypts them all; TLS only, no public access, server
access logs; CORS lets browsers PUT single files and multipart parts and read the ETag of each
part; incomplete multipart uploads are aborted after a day; exports expire.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import Settings

BUCKETS = ("Raw", "Derived", "Embeddings", "Exports")


class AlbumStorage(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        notifications_handler_role: iam.IRole,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="FaceFlow albums: buckets, table, queue-free data at rest",
            removal_policy=settings.cdk_removal_policy,
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # log delivery cannot use a KMS key
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="Expire", expiration=cdk.Duration.days(365))],
            removal_policy=settings.cdk_removal_policy,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the album buckets' server access log bucket; logging into itself would loop.",
        )
        cors = [
            s3.CorsRule(
                allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                allowed_origins=settings.cors_origins,
                allowed_headers=["*"],
                exposed_headers=["ETag"],  # the browser needs each part's ETag to complete
                max_age=3000,
            )
        ]
        abort = s3.LifecycleRule(
            id="AbortIncompleteMultipartUploads",
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )
        self.buckets: dict[str, s3.Bucket] = {}
        for name in BUCKETS:
            rules = [abort]
            if name == "Exports":
                rules.append(
                    s3.LifecycleRule(
                        id="ExpireExports",
                        expiration=cdk.Duration.days(settings.album_export_expiry_days),
                    )
                )
            self.buckets[name] = s3.Bucket(
                self,
                name,
                encryption=s3.BucketEncryption.KMS,
                encryption_key=self.key,
                bucket_key_enabled=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                server_access_logs_bucket=self.access_logs,
                server_access_logs_prefix=f"{name.lower()}/",
                cors=cors if name in ("Raw", "Derived") else None,
                lifecycle_rules=rules,
                removal_policy=settings.cdk_removal_policy,
                notifications_handler_role=notifications_handler_role if name == "Raw" else None,
            )

    @property
    def raw(self) -> s3.Bucket:
        return self.buckets["Raw"]

    @property
    def derived(self) -> s3.Bucket:
        return self.buckets["Derived"]
