"""FaceChain on SageMaker asynchronous inference, created only after its image was built.

Order at deploy time: the build custom resource starts the CodeBuild build of the image tag and
waits (Provider isComplete) on THAT build id; the model, endpoint config and endpoint depend on it.
Async inference writes outputs/failures under the base bucket and notifies two encrypted topics.
The endpoint scales on its backlog, down to zero instances when idle.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.lambdas.bundling import shared_layer
from stacks.lambdas.function import (
    StyleFunction,
    dead_letter_queue,
    object_arns,
    prefix_condition,
)
from stacks.nag import acknowledge, acknowledge_wildcards
from stacks.s3.stack import StorageStack
from stacks.settings import Settings
from style_backend import keys
from style_backend.config import EnvVar

VARIANT_NAME = "AllTraffic"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"


class FaceChainStack(cdk.Stack):
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
        self.functions: list[StyleFunction] = []
        image_build = self._image_build(
            settings, build_project, image_tag, operations_topic, operations_key
        )
        self._topics(settings)
        role = self._execution_role(bucket, repository)
        model = sagemaker.CfnModel(
            self,
            "FaceChainModel",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=f"{repository.repository_uri}:{image_tag}",
                environment={
                    EnvVar.SWAP_ENGINE.value: settings.swap_engine,
                    EnvVar.BUCKET_NAME.value: bucket.bucket_name,
                },
            ),
        )
        # The image exists only once the build succeeded; the role's policy before the model.
        model.node.add_dependency(image_build)
        model.node.add_dependency(role)
        bucket_url = f"s3://{bucket.bucket_name}"
        endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "AsyncEndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    model_name=model.attr_model_name,
                    instance_type=settings.endpoint_instance_type,
                    initial_instance_count=1,  # creation needs one; autoscaling goes to zero
                    initial_variant_weight=1,
                )
            ],
            async_inference_config=sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
                output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                    s3_output_path=f"{bucket_url}/{keys.INFERENCE_OUT}",
                    s3_failure_path=f"{bucket_url}/{keys.INFERENCE_FAILED}",
                    notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                        success_topic=self.success_topic.topic_arn,
                        error_topic=self.error_topic.topic_arn,
                    ),
                ),
                # One swap at a time per GPU: the backlog, not the instance, queues requests.
                client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                    max_concurrent_invocations_per_instance=1
                ),
            ),
        )
        acknowledge(
            endpoint_config,
            "AwsSolutions-SM2",
            "ml.g5 instances have NVMe instance storage, for which SageMaker rejects a KmsKeyId "
            "(the storage is hardware-encrypted); outputs go to the SSE bucket.",
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "AsyncEndpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=endpoint_config.attr_endpoint_config_name,
        )
        self._autoscaling(settings)
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint_name)

    @property
    def endpoint_arn(self) -> str:
        return self.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name
        )

    # ------------------------------------------------------------------ image build

    def _image_build(
        self,
        settings: Settings,
        project: codebuild.IProject,
        image_tag: str,
        operations_topic: sns.ITopic,
        operations_key: kms.IKey,
    ) -> cdk.CustomResource:
        layer = shared_layer(self)
        environment = {
            EnvVar.BUILD_PROJECT_NAME: project.project_name,
            EnvVar.OPERATIONS_TOPIC_ARN: operations_topic.topic_arn,
        }
        common = dict(
            group="facechain_codebuild", settings=settings, layers=[layer], environment=environment
        )
        trigger = StyleFunction(
            self,
            "BuildTriggerFunction",
            handler="build_trigger.on_event",
            description="Custom resource onEvent: starts the FaceChain image build",
            timeout=cdk.Duration.seconds(60),
            **common,
        )
        trigger.allow("StartImageBuild", ["codebuild:StartBuild"], [project.project_arn])
        status = StyleFunction(
            self,
            "BuildStatusFunction",
            handler="build_status.is_complete",
            description="Custom resource isComplete: waits on the build that onEvent started",
            timeout=cdk.Duration.seconds(60),
            **common,
        )
        status.allow("ReadImageBuild", ["codebuild:BatchGetBuilds"], [project.project_arn])
        events_dlq = dead_letter_queue(self, "BuildEventsDeadLetterQueue")
        build_events = StyleFunction(
            self,
            "BuildEventsFunction",
            handler="build_events.handler",
            description="CodeBuild state changes of the image build → operators' topic + metric",
            dead_letter_queue=events_dlq,
            **common,
        )
        build_events.allow("NotifyOperators", ["sns:Publish"], [operations_topic.topic_arn])
        build_events.allow(
            "EncryptForOperationsTopic",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [operations_key.key_arn],
        )
        self.functions += [trigger, status, build_events]
        self.dead_letter_queues = [events_dlq]
        events.Rule(
            self,
            "BuildStateRule",
            description="FaceChain image build state changes → BuildEventsFunction",
            event_pattern=events.EventPattern(
                source=["aws.codebuild"],
                detail_type=["CodeBuild Build State Change"],
                detail={"project-name": [project.project_name]},
            ),
            targets=[
                targets.LambdaFunction(
                    build_events.function,
                    dead_letter_queue=events_dlq,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.hours(2),
                )
            ],
        )

        provider_logs = logs.LogGroup(
            self,
            "BuildProviderLogs",
            retention=settings.cdk_log_retention,
            removal_policy=settings.cdk_removal_policy,
        )
        provider = cr.Provider(
            self,
            "BuildProvider",
            on_event_handler=trigger.function,
            is_complete_handler=status.function,
            total_timeout=cdk.Duration.hours(1),
            query_interval=cdk.Duration.seconds(30),
            log_group=provider_logs,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=provider_logs, level=sfn.LogLevel.ALL
            ),
        )
        self._acknowledge_provider(provider, [trigger.function, status.function])
        build = cdk.CustomResource(
            self,
            "ImageBuild",
            service_token=provider.service_token,
            resource_type="Custom::FaceChainImageBuild",
            # A new tag (new container inputs) is an Update: a new build of that tag.
            properties={"ProjectName": project.project_name, "ImageTag": image_tag},
        )
        return build

    def _acknowledge_provider(self, provider: cr.Provider, handlers: list) -> None:
        framework = [
            provider.node.find_child(f"framework-{name}") for name in ("isComplete", "onTimeout")
        ]
        acknowledge_wildcards(
            provider,
            [f"{fn.function_arn}:*" for fn in (*handlers, *framework)],
            "The Provider framework invokes our handlers and its own functions, any version "
            "(`:*`) of those named functions only.",
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM5[Resource::*]",
            "Provider framework waiter state machine: CloudWatch Logs delivery actions "
            "(logs:CreateLogDelivery, …) support no resource-level permission.",
        )
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's custom-resource Provider framework functions: logging only.",
        )
        acknowledge(
            provider,
            "AwsSolutions-L1",
            "The Provider framework's runtime is chosen by aws-cdk-lib, not by this app.",
        )
        acknowledge(
            provider,
            "AwsSolutions-SF2",
            "The Provider framework's waiter state machine offers no X-Ray setting; it only polls "
            "BuildStatusFunction every 30 s and logs ALL events.",
        )

    # ------------------------------------------------------------------ topics and role

    def _topics(self, settings: Settings) -> None:
        self.topics_key = kms.Key(
            self,
            "InferenceTopicsKey",
            enable_key_rotation=True,
            description="Async inference success/error topics",
            removal_policy=settings.cdk_removal_policy,
        )
        self.success_topic = sns.Topic(
            self, "InferenceSuccessTopic", master_key=self.topics_key, enforce_ssl=True
        )
        self.error_topic = sns.Topic(
            self, "InferenceErrorTopic", master_key=self.topics_key, enforce_ssl=True
        )

    def _execution_role(self, bucket: s3.IBucket, repository: ecr.IRepository) -> iam.Role:
        """What the serving container and SageMaker need, written out inline (created with the
        role, so the model never starts before its permissions exist)."""
        statements = [
            iam.PolicyStatement(
                sid="PullImage",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[repository.repository_arn],
            ),
            iam.PolicyStatement(
                sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            ),
            # The request JSON, the face crop and the style image it names.
            iam.PolicyStatement(
                sid="ReadInferenceInputs",
                actions=["s3:GetObject"],
                resources=object_arns(bucket, keys.INFERENCE_IN, keys.CROPS, keys.BASE),
            ),
            # A missing crop or style image is then a 404 (NOT_FOUND, 400), not a 403 (500).
            iam.PolicyStatement(
                sid="ListInferenceInputs",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=prefix_condition(keys.CROPS, keys.BASE),
            ),
            iam.PolicyStatement(
                sid="WriteInferenceOutputs",
                actions=["s3:PutObject"],
                resources=object_arns(bucket, keys.INFERENCE_OUT, keys.INFERENCE_FAILED),
            ),
            iam.PolicyStatement(
                sid="NotifyInferenceResult",
                actions=["sns:Publish"],
                resources=[self.success_topic.topic_arn, self.error_topic.topic_arn],
            ),
            iam.PolicyStatement(
                sid="EncryptForTopics",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[self.topics_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="EndpointMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
            ),
        ]
        endpoint_logs = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        statements.append(
            iam.PolicyStatement(
                sid="EndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[endpoint_logs],
            )
        )
        role = iam.Role(
            self,
            "EndpointExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="FaceChain async endpoint: pull the image, read requests, write results",
            inline_policies={"FaceChainEndpoint": iam.PolicyDocument(statements=statements)},
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level "
            "permission; PutMetricData is limited to the SageMaker namespace by condition.",
        )
        acknowledge_wildcards(
            role,
            object_arns(bucket, keys.INFERENCE_IN, keys.CROPS, keys.BASE, keys.INFERENCE_OUT)
            + object_arns(bucket, keys.INFERENCE_FAILED),
            "Objects under the key prefixes async inference reads (request, crop, style image) "
            "and writes (outputs, failures) only.",
        )
        acknowledge_wildcards(
            role,
            [endpoint_logs],
            "The log streams of this endpoint's own log group (SageMaker names the streams).",
        )
        return role

    # ------------------------------------------------------------------ autoscaling

    def backlog_metric(self, name: str, statistic: str = "Average") -> cw.Metric:
        return cw.Metric(
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=name,
            dimensions_map={"EndpointName": self.endpoint_name},
            statistic=statistic,
            period=cdk.Duration.minutes(1),
        )

    def _autoscaling(self, settings: Settings) -> None:
        target = appscaling.ScalableTarget(
            self,
            "EndpointScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint.attr_endpoint_name}/variant/{VARIANT_NAME}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,  # no GPU bill while nobody is waiting
            max_capacity=settings.endpoint_max_instances,
        )
        target.node.add_dependency(self.endpoint)
        target.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=settings.endpoint_backlog_per_instance,
            custom_metric=self.backlog_metric("ApproximateBacklogSizePerInstance"),
            scale_in_cooldown=cdk.Duration.minutes(10),
            scale_out_cooldown=cdk.Duration.minutes(5),
        )
        # Target tracking cannot leave zero instances (backlog per instance is undefined there):
        # a step policy adds the first instance as soon as requests wait without capacity.
        target.scale_on_metric(
            "ScaleOutFromZero",
            metric=self.backlog_metric("HasBacklogWithoutCapacity"),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0.5, change=0),
                appscaling.ScalingInterval(lower=0.5, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=cdk.Duration.minutes(5),
            evaluation_periods=1,
        )
