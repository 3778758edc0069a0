"""The image pipeline, one construct per function: what it runs, what triggers it, what it may do.

uploads/ → FaceCropFunction → crops/ → FaceSwapFunction → SageMaker async inference →
SNS success/error → FaceSwapCompletionFunction → results/. Permissions follow the table in
docs/architecture.md statement by statement; each function has its dead-letter queue.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.ddb import TablesStack
from stacks.facechain import FaceChainStack
from stacks.settings import Settings
from stacks.shared import FACE_MODELS_DIR, ProjectFunction
from style_backend.config import EnvVar
from style_backend.domain.process import SWAP_TIMEOUT_SECONDS
from style_backend.storage import keys

GROUP = "image_processing"  # lambda/image_processing: the code asset of these functions


class FaceCropFunction(ProjectFunction):
    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        shared_layer: lambda_.ILayerVersion,
        imaging_layer: lambda_.ILayerVersion,
        bucket: s3.IBucket,
        tables: TablesStack,
    ) -> None:
        super().__init__(
            scope,
            "FaceCropFunction",
            handler="face_crop.handler",
            group=GROUP,
            settings=settings,
            layers=[shared_layer, imaging_layer],  # it decodes images
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.MAX_UPLOAD_BYTES: str(settings.max_upload_bytes),
                EnvVar.FACE_MODELS_DIR: FACE_MODELS_DIR,
            },
            description="uploads/ → detect, align and crop the face → crops/",
            memory_size=2048,  # decoding a 12 MP selfie, and YuNet: CPU scales with memory
            timeout=cdk.Duration.seconds(60),
            asynchronous=True,
        )
        self.allow_objects("ReadUploads", ["s3:GetObject"], bucket, keys.UPLOADS)
        self.allow_listing("ListUploads", bucket, keys.UPLOADS)
        self.allow_objects("WriteCrops", ["s3:PutObject"], bucket, keys.CROPS)
        # An erased process's upload, and the crop written while it was erased (erasure rule).
        self.allow_objects(
            "DeleteErasedObjects", ["s3:DeleteObject"], bucket, keys.UPLOADS, keys.CROPS
        )
        self.allow_table("Process", tables.process, "GetItem", "UpdateItem")
        self.trigger_on_objects(bucket, keys.UPLOADS)


class FaceSwapFunction(ProjectFunction):
    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        shared_layer: lambda_.ILayerVersion,
        bucket: s3.IBucket,
        tables: TablesStack,
        facechain: FaceChainStack,
    ) -> None:
        super().__init__(
            scope,
            "FaceSwapFunction",
            handler="face_swap.handler",
            group=GROUP,
            settings=settings,
            layers=[shared_layer],
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.BASE_RESOURCE_TABLE: tables.base_resource.table_name,
                EnvVar.ENDPOINT_NAME: facechain.endpoint_name,
            },
            description="crops/ → one async inference request per chosen style",
            memory_size=512,
            # The style claim's lease (style_backend.domain.process) is derived from this timeout.
            timeout=cdk.Duration.seconds(SWAP_TIMEOUT_SECONDS),
            asynchronous=True,
            reserved_concurrency=settings.swap_reserved_concurrency,  # in front of the GPU
        )
        # The crop and the style image go inline into the request: the container reads nothing.
        self.allow_objects("ReadSwapImages", ["s3:GetObject"], bucket, keys.CROPS, keys.BASE)
        self.allow_listing("ListSwapImages", bucket, keys.CROPS, keys.BASE)  # gone: 404, not 403
        self.allow_objects("WriteInferenceRequests", ["s3:PutObject"], bucket, keys.INFERENCE_IN)
        # An erased process's crop, and the request sent while it was erased (erasure rule).
        self.allow_objects(
            "DeleteErasedObjects", ["s3:DeleteObject"], bucket, keys.CROPS, keys.INFERENCE_IN
        )
        self.allow_table("Process", tables.process, "GetItem", "UpdateItem")
        self.allow_table("BaseResource", tables.base_resource, "GetItem")
        self.allow("InvokeFaceChain", ["sagemaker:InvokeEndpointAsync"], [facechain.endpoint_arn])
        self.trigger_on_objects(bucket, keys.CROPS)


class FaceSwapCompletionFunction(ProjectFunction):
    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        shared_layer: lambda_.ILayerVersion,
        bucket: s3.IBucket,
        tables: TablesStack,
        facechain: FaceChainStack,
    ) -> None:
        super().__init__(
            scope,
            "FaceSwapCompletionFunction",
            handler="face_swap_completion.handler",
            group=GROUP,
            settings=settings,
            layers=[shared_layer],
            environment={
                EnvVar.BUCKET_NAME: bucket.bucket_name,
                EnvVar.PROCESS_TABLE: tables.process.table_name,
                EnvVar.DISPLAY_TABLE: tables.display.table_name,
            },
            description="async inference success/error → results/, Display row, Process status",
            memory_size=512,
            timeout=cdk.Duration.seconds(60),
            asynchronous=True,
            reserved_concurrency=settings.completion_reserved_concurrency,
        )
        self.allow_objects("ReadInferenceOutputs", ["s3:GetObject"], bucket, keys.INFERENCE_OUT)
        self.allow_listing("ListInferenceOutputs", bucket, keys.INFERENCE_OUT)
        # PutObject for the result; DeleteObject only for a copy whose process was erased meanwhile.
        self.allow_objects(
            "WriteResults", ["s3:PutObject", "s3:DeleteObject"], bucket, keys.RESULTS
        )
        # The inference objects and the Display row of a process erased meanwhile.
        self.allow_objects(
            "DeleteErasedInference",
            ["s3:DeleteObject"],
            bucket,
            keys.INFERENCE_IN,
            keys.INFERENCE_OUT,
            keys.INFERENCE_FAILED,
        )
        self.allow_table("Process", tables.process, "GetItem", "UpdateItem")
        self.allow_table("Display", tables.display, "PutItem", "DeleteItem")
        for topic in (facechain.success_topic, facechain.error_topic):
            topic.add_subscription(subscriptions.LambdaSubscription(self.function))


class PipelineDeadLetterFunction(ProjectFunction):
    """A crop, swap or completion event that failed every retry ends its process or styles
    FAILED with a reason (style_backend.edge.dead_letters) instead of leaving the process CREATED or
    SWAPPING forever."""

    def __init__(
        self,
        scope: Construct,
        *,
        settings: Settings,
        shared_layer: lambda_.ILayerVersion,
        tables: TablesStack,
        queues: list,
    ) -> None:
        super().__init__(
            scope,
            "PipelineDeadLetterFunction",
            handler="pipeline_dead_letters.handler",
            group=GROUP,
            settings=settings,
            layers=[shared_layer],
            environment={EnvVar.PROCESS_TABLE: tables.process.table_name},
            description="crop/swap/completion events that failed every retry → FAILED, a reason",
            timeout=cdk.Duration.seconds(30),
        )
        for queue in queues:
            self.function.add_event_source(
                event_sources.SqsEventSource(queue, batch_size=10, report_batch_item_failures=True)
            )
        self.allow_table("Process", tables.process, "GetItem", "UpdateItem")
