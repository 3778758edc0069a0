"""The image pipeline and API functions, their layers and the base bucket's S3 triggers.

Each function is one construct (stacks/lambdas/pipeline.py, api.py) holding its role, log group,
permissions, trigger and dead-letter queue. S3 notifications are added to this stack's reference
to the base bucket with CDK's own `add_event_notification` (merged with any other notification).
"""

from __future__ import annotations

from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.ddb import TablesStack
from stacks.facechain import FaceChainStack
from stacks.lambdas import api, pipeline
from stacks.lambdas.notifications import NotificationsHandlerRole
from stacks.s3 import StorageStack
from stacks.settings import Settings
from stacks.shared import ImagingLayer, ProjectStack, SharedLayer


class FunctionsStack(ProjectStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        storage: StorageStack,
        tables: TablesStack,
        facechain: FaceChainStack,
        user_pool: cognito.IUserPool,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        # CDK's BucketNotificationsHandler runs with our role (scoped to the base bucket).
        handler_role = NotificationsHandlerRole(
            self, "BucketNotificationsHandlerRole", bucket_arn=storage.bucket_arn_import
        )
        bucket = storage.bucket_reference(
            self, "BaseBucketRef", notifications_handler_role=handler_role.without_policy_updates()
        )
        common = {"settings": settings, "shared_layer": SharedLayer(self), "tables": tables}
        self.pipeline = [
            pipeline.FaceCropFunction(
                self, imaging_layer=ImagingLayer(self), bucket=bucket, **common
            ),
            pipeline.FaceSwapFunction(self, bucket=bucket, facechain=facechain, **common),
            pipeline.FaceSwapCompletionFunction(self, bucket=bucket, facechain=facechain, **common),
        ]
        self.dead_letters = pipeline.PipelineDeadLetterFunction(
            self,
            queues=[fn.dead_letter_queue for fn in self.pipeline],  # crop, swap, completion
            **common,
        )
        # By construct id, the name style_backend.edge.api.routes gives each route's function.
        self.api_functions = {
            fn.node.id: fn
            for fn in api.functions(self, bucket=bucket, user_pool=user_pool, **common)
        }
        self.functions = [*self.pipeline, self.dead_letters, *self.api_functions.values()]
        self.dead_letter_queues = [fn.dead_letter_queue for fn in self.pipeline]
