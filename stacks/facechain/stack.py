"""FaceChain on SageMaker asynchronous inference, created only after its image was built.

Order at deploy time: the build custom resource starts the CodeBuild build of the image tag and
waits on THAT build (stacks/facechain/image_build.py); the model, endpoint config and endpoint
depend on it (stacks/facechain/endpoint.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.byoc import ContainerBuildStack
from stacks.facechain.endpoint import (
    AsyncEndpoint,
    EndpointAutoscaling,
    EndpointExecutionRole,
    InferenceTopics,
)
from stacks.facechain.image_build import (
    BuildEventsFunction,
    BuildStateRule,
    ImageBuild,
    build_function_options,
)
from stacks.monitoring.stack import AlertsStack
from stacks.s3 import StorageStack
from stacks.settings import Settings
from stacks.shared import ProjectStack, object_arns
from stacks.shared.network import IsolatedModelNetwork
from style_backend.storage import keys


class FaceChainStack(ProjectStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        storage: StorageStack,
        container: ContainerBuildStack,
        alerts: AlertsStack,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        bucket = storage.bucket_reference(self, "BaseBucketRef")
        self.endpoint_name = f"{settings.project_name}-facechain".lower()
        build = self._image_build(settings, container, alerts)
        topics = InferenceTopics.create(self, settings)
        self.success_topic, self.error_topic = topics.success, topics.error
        shared = {"bucket": bucket, "topics": topics, "network": self._network(settings, bucket)}
        role = EndpointExecutionRole(
            self,
            "EndpointExecutionRole",
            repository=container.repository,
            endpoint_name=self.endpoint_name,
            **shared,
        )
        self.endpoint = AsyncEndpoint(
            self,
            "AsyncEndpoint",
            settings=settings,
            endpoint_name=self.endpoint_name,
            image=f"{container.repository.repository_uri}:{container.image_tag}",
            role=role,
            **shared,
        )
        self.endpoint.model.node.add_dependency(build.resource)  # the image exists once built
        EndpointAutoscaling(
            self, "EndpointScalableTarget", settings=settings, endpoint=self.endpoint
        )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)

    def _network(self, settings: Settings, bucket: s3.IBucket) -> IsolatedModelNetwork:
        """The model's private network; through its S3 endpoint only the inference objects."""
        network = self.network = IsolatedModelNetwork(self, "ModelNetwork", settings=settings)
        network.allow_objects(
            ["s3:GetObject"], object_arns(bucket, keys.INFERENCE_IN), sid="ReadRequests"
        )
        network.allow_objects(
            ["s3:PutObject"],
            object_arns(bucket, keys.INFERENCE_OUT, keys.INFERENCE_FAILED),
            sid="WriteResults",
        )
        return network

    def _image_build(
        self, settings: Settings, container: ContainerBuildStack, alerts: AlertsStack
    ) -> ImageBuild:
        """The awaited image build, and the operators' notifications of every build."""
        project = container.project
        common = build_function_options(self, settings, project, alerts.topic)
        build = ImageBuild(
            self,
            "ImageBuild",
            settings=settings,
            project=project,
            image_tag=container.image_tag,
            common=common,
        )
        events = BuildEventsFunction(self, topic=alerts.topic, key=alerts.key, common=common)
        BuildStateRule(self, project=project, target=events)
        self.functions = [*build.functions, events]
        self.dead_letter_queues = [events.dead_letter_queue]
        return build

    @property
    def endpoint_arn(self) -> str:
        return self.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name
        )
