"""FaceFlow albums: storage, the single table, the pipeline and the album API function.

Each function has its own role with only what its code does (statements below, one per need);
the API stack mounts the API function on the REST API (style_backend.routes.ALBUM_ROUTES).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from faceflow.album_env import AlbumEnv
from stacks.albums.pipeline import AlbumPipeline
from stacks.albums.storage import AlbumStorage
from stacks.albums.table import LSI1, AlbumTable
from stacks.lambdas.bundling import shared_layer
from stacks.lambdas.function import StyleFunction
from stacks.nag import acknowledge_wildcards
from stacks.settings import Settings
from style_backend.config import EnvVar
from style_backend.routes import ALBUM_FUNCTION

GROUP = "albums"  # lambda/albums
ALBUM_BUCKET_ENV = {
    "Raw": AlbumEnv.RAW_BUCKET,
    "Derived": AlbumEnv.DERIVED_BUCKET,
    "Embeddings": AlbumEnv.EMBEDDINGS_BUCKET,
    "Exports": AlbumEnv.EXPORTS_BUCKET,
}
TENANT_OBJECTS = "tenant/*"
KMS_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
_WILDCARD = (
    "Objects under tenant/ only: every album key is tenant/{userId}/{albumId}/…, and which "
    "user's prefix a request may touch is decided per request by the owner check."
)


def _arn(bucket: s3.IBucket | str) -> str:
    return bucket if isinstance(bucket, str) else bucket.bucket_arn


class AlbumsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        operations_topic: sns.ITopic,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        self._settings = settings
        self.layer = shared_layer(self, "AlbumsSharedLayer")
        handler_role = self._notifications_handler_role()
        self.storage = AlbumStorage(
            self, "Storage", settings=settings, notifications_handler_role=handler_role
        )
        handler_role_policy = iam.Policy(
            self,
            "NotificationsHandlerPolicy",
            statements=[
                iam.PolicyStatement(
                    sid="ManageRawNotifications",
                    actions=["s3:GetBucketNotification", "s3:PutBucketNotification"],
                    resources=[self.storage.raw.bucket_arn],
                )
            ],
        )
        handler_role_policy.attach_to_role(self._handler_role)
        self.table = AlbumTable(self, "Table", settings=settings, key=self.storage.key).table
        self.notify_topic = sns.Topic(
            self, "NotifyTopic", master_key=self.storage.key, enforce_ssl=True
        )
        self.album_env: dict = {
            AlbumEnv.TABLE: self.table.table_name,
            **{
                env: self.storage.buckets[name].bucket_name
                for name, env in ALBUM_BUCKET_ENV.items()
            },
            AlbumEnv.MAX_PHOTO_BYTES: str(settings.album_max_photo_bytes),
            AlbumEnv.PART_SIZE_BYTES: str(settings.album_part_size_bytes),
            AlbumEnv.UPLOAD_URL_EXPIRY_SECONDS: str(settings.upload_url_expiry_seconds * 4),
            AlbumEnv.THUMBNAIL_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
        }
        self.pipeline = AlbumPipeline(
            self,
            "Pipeline",
            settings=settings,
            raw=self.storage.raw,
            make_function=self._function,
            operations_topic=operations_topic,
        )
        self._grant_pipeline()
        self.api = self._function(
            ALBUM_FUNCTION,
            "album_api.handler",
            "Album API: albums, uploads (PUT / multipart), photos, status, deletion",
            memory_size=512,
            timeout=cdk.Duration.seconds(29),
            environment={EnvVar.CORS_ALLOWED_ORIGINS: settings.cors_allowed_origins},
        )
        self._grant_api(self.api)
        self.api_functions: Mapping[str, lambda_.IFunction] = {ALBUM_FUNCTION: self.api.function}

    # ------------------------------------------------------------------ functions

    def _function(
        self,
        construct_id: str,
        handler: str,
        description: str,
        *,
        memory_size: int = 256,
        timeout: cdk.Duration | None = None,
        environment: Mapping | None = None,
    ) -> StyleFunction:
        fn = StyleFunction(
            self,
            construct_id,
            handler=handler,
            group=GROUP,
            settings=self._settings,
            layers=[self.layer],
            environment={**self.album_env, **(environment or {})},
            description=description,
            memory_size=memory_size,
            timeout=timeout,
        )
        fn.allow("AlbumKey", KMS_ACTIONS, [self.storage.key.key_arn])
        return fn

    def _table(self, fn: StyleFunction, *actions: str, lsi: bool = False) -> None:
        resources = [self.table.table_arn]
        if lsi:
            resources.append(f"{self.table.table_arn}/index/{LSI1}")
        fn.allow("AlbumTable", [f"dynamodb:{a}" for a in actions], resources)

    def _objects(self, fn: StyleFunction, sid: str, actions: list[str], *buckets: s3.IBucket | str):
        fn.allow(
            sid,
            actions,
            [f"{_arn(b)}/{TENANT_OBJECTS}" for b in buckets],
            wildcard_reason=_WILDCARD,
        )

    def _listing(self, fn: StyleFunction, sid: str, actions: list[str], *buckets: s3.IBucket | str):
        fn.allow(
            sid,
            actions,
            [_arn(b) for b in buckets],
            conditions={"StringLike": {"s3:prefix": [TENANT_OBJECTS]}}
            if actions == ["s3:ListBucket"]
            else None,
        )

    def _grant_pipeline(self) -> None:
        p, raw, derived = self.pipeline, self.storage.raw, self.storage.derived
        self._table(p.starter, "UpdateItem", "PutItem")
        extract = p.functions["ExtractEXIF"]
        self._table(extract, "GetItem", "UpdateItem")
        self._objects(extract, "ReadRawPhotos", ["s3:GetObject"], raw)
        self._listing(extract, "ListRaw", ["s3:ListBucket"], raw)  # 404, not 403, when gone
        self._objects(extract, "WriteThumbnails", ["s3:PutObject"], derived)
        self._table(p.functions["Dedupe"], "Query", "GetItem", "PutItem", "UpdateItem")
        self._objects(p.functions["Dedupe"], "ReadThumbnails", ["s3:GetObject"], derived)
        for state in ("DetectAlign", "Embed", "Cluster"):
            self._table(p.functions[state], "UpdateItem")
        self._table(p.functions["Notify"], "Query", "UpdateItem")
        p.functions["Notify"].allow(
            "PublishJobDone", ["sns:Publish"], [self.notify_topic.topic_arn]
        )
        p.functions["Notify"].function.add_environment(
            AlbumEnv.NOTIFY_TOPIC_ARN.value, self.notify_topic.topic_arn
        )
        self._table(p.functions["FailJob"], "Query", "UpdateItem")

    def _grant_api(self, fn: StyleFunction) -> None:
        raw, derived = self.storage.raw, self.storage.derived
        self._table(
            fn,
            "GetItem",
            "PutItem",
            "UpdateItem",
            "Query",
            "DeleteItem",
            "BatchWriteItem",
            lsi=True,
        )
        # Presigned PUT / multipart parts are signed with this role: it must be allowed them.
        self._objects(
            fn,
            "UploadRawPhotos",
            ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts"],
            raw,
        )
        self._objects(fn, "ReadThumbnails", ["s3:GetObject"], derived)
        self.grant_album_deletion(fn, *self.storage.buckets.values())

    def grant_album_deletion(self, fn: StyleFunction, *every: s3.IBucket | str) -> None:
        """What deleting albums needs (the album API, and the user erasure of the styling flow):
        every album object of every bucket (buckets, or their ARNs from another stack)."""
        self._objects(
            fn, "DeleteAlbumObjects", ["s3:DeleteObject", "s3:AbortMultipartUpload"], *every
        )
        self._listing(fn, "ListAlbumObjects", ["s3:ListBucket"], *every)
        self._listing(fn, "ListAlbumUploads", ["s3:ListBucketMultipartUploads"], *every)

    def grant_user_erasure(self, fn: StyleFunction) -> None:
        """The styling flow's user erasure also erases the user's albums (faceflow.albums)."""
        for name in (AlbumEnv.TABLE, *ALBUM_BUCKET_ENV.values()):
            fn.function.add_environment(name.value, self.album_env[name])
        fn.allow("AlbumKey", KMS_ACTIONS, [self.storage.key.key_arn])
        fn.allow(
            "AlbumTable",
            [
                "dynamodb:Query",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:GetItem",
            ],
            [self.table.table_arn],
        )
        # Named exports: the erasure role's findings name them, not CDK's hashed export names.
        self.grant_album_deletion(
            fn,
            *(
                self.export_value(b.bucket_arn, name=f"{self.stack_name}-{name}BucketArn")
                for name, b in self.storage.buckets.items()
            ),
        )

    def _notifications_handler_role(self) -> iam.Role:
        """CDK's BucketNotificationsHandler: the raw bucket's notification config and its logs."""
        logs_arn = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/lambda/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self._handler_role = iam.Role(
            self,
            "NotificationsHandlerRole",
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
            self._handler_role,
            [logs_arn],
            "CDK's notifications handler gets a CloudFormation-generated name, unknown when "
            "its role is written; logging actions only, in this account and region.",
        )
        return self._handler_role.without_policy_updates()
