"""The image pipeline and API functions, their layers, triggers and (only) their permissions.

Permissions follow the table in docs/architecture.md statement by statement. S3 notifications
are added here, on this stack's reference to the base bucket, with CDK's own
`add_event_notification` (`ObjectCreated:*`, merged with any other notification of the bucket).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.ddb.stack import PROCESS_BY_USER_INDEX, TablesStack
from stacks.lambdas.bundling import FACE_MODELS_DIR, imaging_layer, shared_layer
from stacks.lambdas.function import StyleFunction, dead_letter_queue
from stacks.nag import acknowledge_wildcards
from stacks.s3.stack import StorageStack
from stacks.settings import Settings
from style_backend import keys
from style_backend.config import EnvVar

IMAGE_GROUP = "image_processing"
API_GROUP = "apis"


def _index_arn(table: ddb.ITable, index: str) -> str:
    return f"{table.table_arn}/index/{index}"


class FunctionsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        storage: StorageStack,
        tables: TablesStack,
        endpoint_name: str,
        endpoint_arn: str,
        success_topic: sns.ITopic,
        error_topic: sns.ITopic,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        self._settings = settings
        self.shared_layer = shared_layer(self)
        self.imaging_layer = imaging_layer(self)
        # CDK's BucketNotificationsHandler runs with our role (scoped to the base bucket).
        self.bucket = storage.bucket_reference(
            self,
            "BaseBucketRef",
            notifications_handler_role=self._notifications_handler_role(storage.bucket_arn_import),
        )
        b, t = self.bucket, tables
        bucket_env = {EnvVar.BUCKET_NAME: b.bucket_name}

        # ---------------------------------------------------------------- image pipeline
        self.dead_letter_queues = []
        crop_dlq = dead_letter_queue(self, "FaceCropDeadLetterQueue")
        self.face_crop = self._function(
            "FaceCropFunction",
            "face_crop.handler",
            IMAGE_GROUP,
            "uploads/ → detect, align and crop the face → crops/",
            {
                **bucket_env,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.MAX_UPLOAD_BYTES: str(settings.max_upload_bytes),
                EnvVar.FACE_MODELS_DIR: FACE_MODELS_DIR,
            },
            imaging=True,
            memory_size=2048,  # dlib HOG on a full-size selfie: CPU scales with memory
            timeout=cdk.Duration.seconds(60),
            dlq=crop_dlq,
        )
        self.face_crop.allow_objects("ReadUploads", ["s3:GetObject"], b, keys.UPLOADS)
        self.face_crop.allow_listing("ListUploads", b, keys.UPLOADS)
        self.face_crop.allow_objects("WriteCrops", ["s3:PutObject"], b, keys.CROPS)
        self._table_access(self.face_crop, "Process", t.process, "GetItem", "UpdateItem")

        swap_dlq = dead_letter_queue(self, "FaceSwapDeadLetterQueue")
        self.face_swap = self._function(
            "FaceSwapFunction",
            "face_swap.handler",
            IMAGE_GROUP,
            "crops/ → one async inference request per chosen style",
            {
                **bucket_env,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.BASE_RESOURCE_TABLE: t.base_resource.table_name,
                EnvVar.ENDPOINT_NAME: endpoint_name,
            },
            memory_size=512,
            timeout=cdk.Duration.seconds(60),
            dlq=swap_dlq,
        )
        self.face_swap.allow_objects(
            "WriteInferenceRequests", ["s3:PutObject"], b, keys.INFERENCE_IN
        )
        self._table_access(self.face_swap, "Process", t.process, "GetItem", "UpdateItem")
        self._table_access(self.face_swap, "BaseResource", t.base_resource, "GetItem")
        self.face_swap.allow("InvokeFaceChain", ["sagemaker:InvokeEndpointAsync"], [endpoint_arn])

        completion_dlq = dead_letter_queue(self, "FaceSwapCompletionDeadLetterQueue")
        self.completion = self._function(
            "FaceSwapCompletionFunction",
            "face_swap_completion.handler",
            IMAGE_GROUP,
            "async inference success/error → results/, Display row, Process status",
            {
                **bucket_env,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.DISPLAY_TABLE: t.display.table_name,
            },
            memory_size=512,
            timeout=cdk.Duration.seconds(60),
            dlq=completion_dlq,
        )
        self.completion.allow_objects(
            "ReadInferenceOutputs", ["s3:GetObject"], b, keys.INFERENCE_OUT
        )
        self.completion.allow_listing("ListInferenceOutputs", b, keys.INFERENCE_OUT)
        # PutObject for the result; DeleteObject only for a copy whose process was erased meanwhile.
        self.completion.allow_objects(
            "WriteResults", ["s3:PutObject", "s3:DeleteObject"], b, keys.RESULTS
        )
        self._table_access(self.completion, "Process", t.process, "GetItem", "UpdateItem")
        self._table_access(self.completion, "Display", t.display, "PutItem")
        self.dead_letter_queues += [crop_dlq, swap_dlq, completion_dlq]

        # ObjectCreated:* (not only Put): browser POST uploads and multipart uploads count too.
        b.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.face_crop.function),
            s3.NotificationKeyFilter(prefix=keys.UPLOADS),
        )
        b.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.face_swap.function),
            s3.NotificationKeyFilter(prefix=keys.CROPS),
        )
        for topic in (success_topic, error_topic):
            topic.add_subscription(subscriptions.LambdaSubscription(self.completion.function))

        # ---------------------------------------------------------------- API functions
        self.agreement = self._function(
            "AgreementFunction",
            "agreement.handler",
            API_GROUP,
            "GET/POST /agree: the caller's consent to the current terms",
            {
                EnvVar.USER_AGREEMENT_TABLE: t.user_agreement.table_name,
                EnvVar.TERMS_VERSION: settings.terms_version,
            },
        )
        self._table_access(self.agreement, "UserAgreement", t.user_agreement, "GetItem", "PutItem")

        self.styles = self._function(
            "StylesFunction",
            "styles.handler",
            API_GROUP,
            "GET /apis/styles: active base resources with presigned image URLs",
            {
                **bucket_env,
                EnvVar.BASE_RESOURCE_TABLE: t.base_resource.table_name,
                EnvVar.RESULT_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
            },
        )
        self._table_access(self.styles, "BaseResource", t.base_resource, "Scan")
        self.styles.allow_objects("PresignStyleImages", ["s3:GetObject"], b, keys.BASE)

        self.upload = self._function(
            "UploadFunction",
            "upload.handler",
            API_GROUP,
            "POST /apis/images/upload: Process item + presigned POST for the selfie",
            {
                **bucket_env,
                EnvVar.USER_AGREEMENT_TABLE: t.user_agreement.table_name,
                EnvVar.BASE_RESOURCE_TABLE: t.base_resource.table_name,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.TERMS_VERSION: settings.terms_version,
                EnvVar.MAX_UPLOAD_BYTES: str(settings.max_upload_bytes),
                EnvVar.UPLOAD_URL_EXPIRY_SECONDS: str(settings.upload_url_expiry_seconds),
                EnvVar.PROCESS_TTL_DAYS: str(settings.process_ttl_days),
            },
        )
        self._table_access(self.upload, "UserAgreement", t.user_agreement, "GetItem")
        self._table_access(self.upload, "BaseResource", t.base_resource, "BatchGetItem")
        self._table_access(self.upload, "Process", t.process, "PutItem")
        self.upload.allow_objects("PresignUploads", ["s3:PutObject"], b, keys.UPLOADS)

        self.images = self._function(
            "ImagesFunction",
            "images.handler",
            API_GROUP,
            "GET /apis/images/{userId}[/processes/{processId}]: results and progress",
            {
                **bucket_env,
                EnvVar.DISPLAY_TABLE: t.display.table_name,
                EnvVar.DISPLAY_HISTORY_TABLE: t.display_history.table_name,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.RESULT_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
                EnvVar.DISPLAY_HISTORY_TTL_DAYS: str(settings.display_history_ttl_days),
            },
        )
        self._table_access(self.images, "Display", t.display, "Query")
        self._table_access(self.images, "DisplayHistory", t.display_history, "BatchWriteItem")
        self._table_access(self.images, "Process", t.process, "GetItem")
        self.images.allow_objects("PresignResults", ["s3:GetObject"], b, keys.RESULTS)

        self.erasure = self._function(
            "ErasureFunction",
            "erasure.handler",
            API_GROUP,
            "DELETE /apis/images/{userId}: erase the caller's objects and items",
            {
                **bucket_env,
                EnvVar.PROCESS_TABLE: t.process.table_name,
                EnvVar.DISPLAY_TABLE: t.display.table_name,
                EnvVar.DISPLAY_HISTORY_TABLE: t.display_history.table_name,
                EnvVar.USER_AGREEMENT_TABLE: t.user_agreement.table_name,
            },
            timeout=cdk.Duration.seconds(29),  # API Gateway's integration limit
            memory_size=512,
        )
        erasable = (keys.UPLOADS, keys.CROPS, keys.RESULTS, "inference/")
        self.erasure.allow_listing("ListUserPrefixes", b, *erasable)
        self.erasure.allow_objects("DeleteUserObjects", ["s3:DeleteObject"], b, *erasable)
        erase = ("Query", "BatchWriteItem")  # boto3's batch writer deletes in batches
        self._table_access(
            self.erasure, "Process", t.process, *erase, indexes=[PROCESS_BY_USER_INDEX]
        )
        # Reads each process for the inference output locations it recorded.
        self._table_access(self.erasure, "ProcessRead", t.process, "GetItem")
        self._table_access(self.erasure, "Display", t.display, *erase)
        self._table_access(self.erasure, "DisplayHistory", t.display_history, *erase)
        self._table_access(self.erasure, "UserAgreement", t.user_agreement, *erase)

        # By construct id, the name style_backend.api.routes gives each route's function.
        self.api_functions = {
            f.function.node.id: f
            for f in (self.agreement, self.styles, self.upload, self.images, self.erasure)
        }
        self.functions = [
            self.face_crop,
            self.face_swap,
            self.completion,
            *self.api_functions.values(),
        ]

    # ------------------------------------------------------------------ helpers

    def _function(
        self,
        construct_id: str,
        handler: str,
        group: str,
        description: str,
        environment: dict[EnvVar, str],
        *,
        imaging: bool = False,
        memory_size: int = 256,
        timeout: cdk.Duration | None = None,
        dlq=None,
    ) -> StyleFunction:
        layers = [self.shared_layer, *([self.imaging_layer] if imaging else [])]
        if group == API_GROUP:  # every API response carries the allowed origin
            environment = {
                **environment,
                EnvVar.CORS_ALLOWED_ORIGINS: self._settings.cors_allowed_origins,
            }
        return StyleFunction(
            self,
            construct_id,
            handler=handler,
            group=group,
            settings=self._settings,
            layers=layers,
            environment=environment,
            description=description,
            memory_size=memory_size,
            timeout=timeout,
            dead_letter_queue=dlq,
        )

    @staticmethod
    def _table_access(
        fn: StyleFunction,
        name: str,
        table: ddb.ITable,
        *actions: str,
        indexes: tuple[str, ...] | list[str] = (),
    ) -> None:
        resources = [table.table_arn, *(_index_arn(table, i) for i in indexes)]
        fn.allow(f"{name}Table", [f"dynamodb:{a}" for a in actions], resources)

    def _notifications_handler_role(self, bucket_arn: str) -> iam.IRole:
        """Role of CDK's BucketNotificationsHandler: this bucket's notification config only."""
        logs_arn = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/lambda/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role = iam.Role(
            self,
            "BucketNotificationsHandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="CDK BucketNotificationsHandler: manage the base bucket's notifications",
            inline_policies={
                "BucketNotifications": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="ManageNotifications",
                            actions=["s3:GetBucketNotification", "s3:PutBucketNotification"],
                            resources=[bucket_arn],
                        ),
                        iam.PolicyStatement(
                            sid="WriteLogs",
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            resources=[logs_arn],
                        ),
                    ]
                )
            },
        )
        acknowledge_wildcards(
            role,
            [logs_arn],
            "CDK's notifications handler gets a CloudFormation-generated name, unknown when "
            "its role is written; logging actions only, in this account and region.",
        )
        # CDK would add s3:PutBucketNotification on "*": the scoped statement above replaces it.
        return role.without_policy_updates()
