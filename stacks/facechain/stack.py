"""FaceChain on SageMaker asynchronous inference, created only after its image was built.

Order at deploy time: the build custom resource starts the CodeBuild build of the image tag and
waits on THAT build (stacks/facechain/image_build.py); the model, endpoint config and endpoint
depend on it (stacks/facechain/endpoint.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

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
from stacks.s3 import StorageStack
from stacks.settings import Settings
from stacks.shared import ProjectStack


class FaceChainStack(ProjectStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        storage: StorageStack,
        repository: ecr.IRepository,
        build_project: codebuild.IProject,
        image_tag: str,
        operations_topic: sns.ITopic,
        operations_key: kms.IKey,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        bucket = storage.bucket_reference(self, "BaseBucketRef")
        self.endpoint_name = f"{settings.project_name}-facechain".lower()
        common = build_function_options(self, settings, build_project, operations_topic)
        build = ImageBuild(
            self,
            "ImageBuild",
            settings=settings,
            project=build_project,
            image_tag=image_tag,
            common=common,
        )
        events = BuildEventsFunction(
            self, topic=operations_topic, key=operations_key, common=common
        )
        BuildStateRule(self, project=build_project, target=events)
        self.functions = [*build.functions, events]
        self.dead_letter_queues = [events.dead_letter_queue]
        topics = InferenceTopics.create(self, settings)
        self.success_topic, self.error_topic = topics.success, topics.error
        role = EndpointExecutionRole(
            self,
            "EndpointExecutionRole",
            bucket=bucket,
            repository=repository,
            topics=topics,
            endpoint_name=self.endpoint_name,
        )
        self.endpoint = AsyncEndpoint(
            self,
            "AsyncEndpoint",
            settings=settings,
            endpoint_name=self.endpoint_name,
            image=f"{repository.repository_uri}:{image_tag}",
            role=role,
            bucket=bucket,
            topics=topics,
        )
        self.endpoint.model.node.add_dependency(build.resource)  # the image exists once built
        EndpointAutoscaling(
            self, "EndpointScalableTarget", settings=settings, endpoint=self.endpoint
        )
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)

    @property
    def endpoint_arn(self) -> str:
        return self.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name
        )
