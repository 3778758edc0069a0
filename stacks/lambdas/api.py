"""The API functions, one construct per function: its handler, environment and permissions.

Routes (which method and path reach which function) are style_backend.edge.api.routes' table,
read by the API stack; the functions are named there by construct id (`AgreementFunction`, …).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.ddb import TablesStack
from stacks.settings import Settings
from stacks.shared import ProjectFunction, index_arn
from style_backend.config import EnvVar
from style_backend.storage import keys
from style_backend.storage.keys import PROCESS_BY_USER

GROUP = "apis"  # lambda/apis: the code asset of these functions


class ApiFunction(ProjectFunction):
    """A function behind an API route: every response carries the allowed origin (CORS)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        settings: Settings,
        shared_layer: lambda_.ILayerVersion,
        environment: Mapping[EnvVar, str],
        **kw,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            handler=handler,
            group=GROUP,
            settings=settings,
            layers=[shared_layer],
            environment={
                **environment,
                EnvVar.CORS_ALLOWED_ORIGINS: settings.cors_allowed_origins,
            },
            description=description,
            **kw,
        )


class AgreementFunction(ApiFunction):
    def __init__(self, scope: Construct, *, tables: TablesStack, settings: Settings, **kw) -> None:
        super().__init__(
            scope,
            "AgreementFunction",
            handler="agreement.handler",
            description="GET/POST /agree: the caller's consent to the current terms",
            settings=settings,
            environment={
                EnvVar.USER_AGREEMENT_TABLE: tables.user_agreement.table_name,
                EnvVar.TERMS_VERSION: settings.terms_version,
            },
            **kw,
        )
        self.allow_table("UserAgreement", tables.user_agreement, "GetItem", "PutItem")


class StylesFunction(ApiFunction):
    def __init__(
        self, scope: Construct, *, bucket: s3.IBucket, tables: TablesStack, settings: Settings, **kw
    ) -> None:
        super().__init__(
            scope,
            "StylesFunction",
            handler="styles.handler",
            description="GET /apis/styles: active base resources with presigned image URLs",
            settings=settings,
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.BASE_RESOURCE_TABLE: tables.base_resource.table_name,
                EnvVar.RESULT_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
            },
            **kw,
        )
        self.allow_table("BaseResource", tables.base_resource, "Scan")
        self.allow_objects("PresignStyleImages", ["s3:GetObject"], bucket, keys.BASE)


class UploadFunction(ApiFunction):
    def __init__(
        self, scope: Construct, *, bucket: s3.IBucket, tables: TablesStack, settings: Settings, **kw
    ) -> None:
        super().__init__(
            scope,
            "UploadFunction",
            handler="upload.handler",
            description="POST /apis/images/upload: Process item + presigned POST for the selfie",
            settings=settings,
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.USER_AGREEMENT_TABLE: tables.user_agreement.table_name,
                EnvVar.BASE_RESOURCE_TABLE: tables.base_resource.table_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.TERMS_VERSION: settings.terms_version,
                EnvVar.MAX_UPLOAD_BYTES: str(settings.max_upload_bytes),
                EnvVar.UPLOAD_URL_EXPIRY_SECONDS: str(settings.upload_url_expiry_seconds),
                EnvVar.PROCESS_TTL_DAYS: str(settings.process_ttl_days),
            },
            **kw,
        )
        self.allow_table("UserAgreement", tables.user_agreement, "GetItem")
        self.allow_table("BaseResource", tables.base_resource, "BatchGetItem")
        self.allow_table("Process", tables.process, "PutItem")
        self.allow_objects("PresignUploads", ["s3:PutObject"], bucket, keys.UPLOADS)


class ImagesFunction(ApiFunction):
    def __init__(
        self, scope: Construct, *, bucket: s3.IBucket, tables: TablesStack, settings: Settings, **kw
    ) -> None:
        super().__init__(
            scope,
            "ImagesFunction",
            handler="images.handler",
            description="GET /apis/images/{userId}[/processes/{processId}]: results and progress",
            settings=settings,
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.DISPLAY_TABLE: tables.display.table_name,
                EnvVar.DISPLAY_HISTORY_TABLE: tables.display_history.table_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.RESULT_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
                EnvVar.DISPLAY_HISTORY_TTL_DAYS: str(settings.display_history_ttl_days),
            },
            **kw,
        )
        self.allow_table("Display", tables.display, "Query")
        self.allow_table("DisplayHistory", tables.display_history, "BatchWriteItem")
        self.allow_table("Process", tables.process, "GetItem")
        self.allow_objects("PresignResults", ["s3:GetObject"], bucket, keys.RESULTS)


class ErasureFunction(ApiFunction):
    def __init__(
        self,
        scope: Construct,
        *,
        bucket: s3.IBucket,
        tables: TablesStack,
        settings: Settings,
        user_pool: cognito.IUserPool,
        **kw,
    ) -> None:
        super().__init__(
            scope,
            "ErasureFunction",
            handler="erasure.handler",
            description="DELETE /apis/images/{userId}: erase the caller's objects and items",
            settings=settings,
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.DISPLAY_TABLE: tables.display.table_name,
                EnvVar.DISPLAY_HISTORY_TABLE: tables.display_history.table_name,
                EnvVar.USER_AGREEMENT_TABLE: tables.user_agreement.table_name,
                EnvVar.USER_POOL_ID: user_pool.user_pool_id,
            },
            timeout=cdk.Duration.seconds(29),  # API Gateway's integration limit
            memory_size=512,
            **kw,
        )
        erasable = (keys.UPLOADS, keys.CROPS, keys.RESULTS, keys.INFERENCE)
        self.allow_listing("ListUserPrefixes", bucket, *erasable)
        self.allow_objects("DeleteUserObjects", ["s3:DeleteObject"], bucket, *erasable)
        # A destructive route: is the caller's account still there (style_backend.storage.accounts)?
        self.allow("CheckCaller", ["cognito-idp:AdminGetUser"], [user_pool.user_pool_arn])
        erase = ("Query", "BatchWriteItem")  # boto3's batch writer deletes in batches
        self.allow(
            "ProcessByUserIndex",
            ["dynamodb:Query"],
            [index_arn(tables.process, PROCESS_BY_USER)],
        )
        # Reads each process for the inference output locations it recorded; PutItem writes the
        # user's erasure marker, UpdateItem turns each process into its tombstone.
        self.allow_table("Process", tables.process, "GetItem", "PutItem", "UpdateItem")
        self.allow_table("Display", tables.display, *erase)
        self.allow_table("DisplayHistory", tables.display_history, *erase)
        self.allow_table("UserAgreement", tables.user_agreement, *erase)


def functions(
    scope: Construct,
    *,
    bucket: s3.IBucket,
    tables: TablesStack,
    settings: Settings,
    user_pool: cognito.IUserPool,
    **kw,
) -> list[ApiFunction]:
    """Every API function, in the order of docs/architecture.md."""
    data = {"bucket": bucket, "tables": tables, "settings": settings, **kw}
    return [
        AgreementFunction(scope, tables=tables, settings=settings, **kw),
        StylesFunction(scope, **data),
        UploadFunction(scope, **data),
        ImagesFunction(scope, **data),
        ErasureFunction(scope, user_pool=user_pool, **data),
    ]
