"""The album buckets (raw, derived, embeddings, exports): SSE-KMS with the album key, TLS only,
private, server access logs, incomplete multipart uploads aborted after a day; raw and derived
answer browser PUTs and part uploads (CORS exposing ETag, which completing an upload needs).
Raw expires what is left under incoming/ (uploads no photo claimed: faceflow.edge.starter)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from faceflow.storage.keys import INCOMING
from stacks.nag import acknowledge_wildcards
from stacks.settings import Settings
from stacks.shared import AccessLogBucket, Component, ProjectKey, SecureBucket

BUCKETS = ("Raw", "Derived", "Embeddings", "Exports")
WITH_CORS = ("Raw", "Derived")


class AlbumStorage(Component):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.key = ProjectKey(
            self, "Key", settings=settings, description="FaceFlow albums: buckets, table, topic"
        )
        self.access_logs = AccessLogBucket(self, "AccessLogs", settings=settings)
        handler_role = NotificationsHandlerRole(self, "NotificationsHandlerRole")
        self.buckets: dict[str, s3.Bucket] = {
            name: SecureBucket(
                self,
                name,
                settings=settings,
                encryption_key=self.key,
                server_access_logs_bucket=self.access_logs,
                server_access_logs_prefix=f"{name.lower()}/",
                cors=_cors(settings) if name in WITH_CORS else None,
                lifecycle_rules=_lifecycle(settings, name),
                notifications_handler_role=handler_role.without_policy_updates()
                if name == "Raw"
                else None,
            )
            for name in BUCKETS
        }
        handler_role.manage_notifications_of(self.raw)

    @property
    def raw(self) -> s3.Bucket:
        return self.buckets["Raw"]

    @property
    def derived(self) -> s3.Bucket:
        return self.buckets["Derived"]

    @property
    def embeddings(self) -> s3.Bucket:
        return self.buckets["Embeddings"]


def _cors(settings: Settings) -> list[s3.CorsRule]:
    return [
        s3.CorsRule(
            allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            allowed_origins=settings.cors_origins,
            allowed_headers=["*"],
            exposed_headers=["ETag"],  # the browser needs each part's ETag to complete
            max_age=3000,
        )
    ]


def _lifecycle(settings: Settings, name: str) -> list[s3.LifecycleRule]:
    rules = [
        s3.LifecycleRule(
            id="AbortIncompleteMultipartUploads",
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )
    ]
    if name == "Raw":  # a claimed upload was moved out of incoming/ at once; the rest goes
        rules.append(
            s3.LifecycleRule(
                id="ExpireUnclaimedUploads",
                prefix=f"{INCOMING}/",
                expiration=cdk.Duration.days(settings.album_incoming_expiry_days),
            )
        )
    if name == "Exports":
        rules.append(
            s3.LifecycleRule(
                id="ExpireExports", expiration=cdk.Duration.days(settings.album_export_expiry_days)
            )
        )
    return rules


class NotificationsHandlerRole(iam.Role):
    """CDK's BucketNotificationsHandler: the raw bucket's notification config and its logs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        stack = cdk.Stack.of(scope)
        logs_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/lambda/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="CDK BucketNotificationsHandler: the album raw bucket's notifications",
            inline_policies={
                "Logs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            resources=[logs_arn],
                        )
                    ]
                )
            },
        )
        acknowledge_wildcards(
            self,
            [logs_arn],
            "CDK's notifications handler gets a CloudFormation-generated name, unknown when "
            "its role is written; logging actions only, in this account and region.",
        )

    def manage_notifications_of(self, bucket: s3.IBucket) -> None:
        iam.Policy(
            self,
            "NotificationsHandlerPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="ManageRawNotifications",
                    actions=["s3:GetBucketNotification", "s3:PutBucketNotification"],
                    resources=[bucket.bucket_arn],
                )
            ],
        ).attach_to_role(self)
