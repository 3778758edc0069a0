"""FaceChain on SageMaker asynchronous inference: topics, execution role, endpoint, autoscaling.

Async inference reads requests under the base bucket, writes outputs/failures there and notifies
two encrypted topics. The endpoint scales on its backlog, down to zero instances when idle.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_wildcards
from stacks.settings import Settings
from stacks.shared import Component, ProjectKey, object_arns
from stacks.shared.network import IsolatedModelNetwork
from style_backend.config import EnvVar
from style_backend.storage import keys

VARIANT_NAME = "AllTraffic"
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
ONE_MINUTE = cdk.Duration.minutes(1)


@dataclass(frozen=True)
class EndpointMetrics:
    """The async endpoint's metrics (namespace AWS/SageMaker, dimension EndpointName)."""

    endpoint_name: str

    def metric(
        self, name: str, statistic: str = "Average", period: cdk.Duration = ONE_MINUTE
    ) -> cw.Metric:
        return cw.Metric(
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=name,
            dimensions_map={"EndpointName": self.endpoint_name},
            statistic=statistic,
            period=period,
        )


@dataclass(frozen=True)
class InferenceTopics:
    """Success and error topics of async inference, encrypted with their own key."""

    key: kms.IKey
    success: sns.ITopic
    error: sns.ITopic

    @classmethod
    def create(cls, stack: cdk.Stack, settings: Settings) -> InferenceTopics:
        # Straight in the stack: the completion's invoke permissions are named by their path.
        key = ProjectKey(
            stack,
            "InferenceTopicsKey",
            settings=settings,
            description="Async inference success/error topics",
        )
        return cls(
            key=key,
            success=sns.Topic(stack, "InferenceSuccessTopic", master_key=key, enforce_ssl=True),
            error=sns.Topic(stack, "InferenceErrorTopic", master_key=key, enforce_ssl=True),
        )


class EndpointExecutionRole(iam.Role):
    """What the serving container and SageMaker need, written out inline (created with the role,
    so the model never starts before its permissions exist)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        repository: ecr.IRepository,
        topics: InferenceTopics,
        endpoint_name: str,
        network: IsolatedModelNetwork,
    ) -> None:
        endpoint_logs = cdk.Stack.of(scope).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/Endpoints/{endpoint_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        statements = [
            *_endpoint_statements(bucket, repository, topics, endpoint_logs),
            *network.execution_statements(),
        ]
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="FaceChain async endpoint: pull the image, read requests, write results",
            inline_policies={"FaceChainEndpoint": iam.PolicyDocument(statements=statements)},
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, cloudwatch:PutMetricData and EC2's Describe* (placing "
            "the model's network interfaces) support no resource-level permission; "
            "PutMetricData is limited to the SageMaker namespace by condition.",
        )
        acknowledge_wildcards(
            self,
            object_arns(bucket, keys.INFERENCE_IN, keys.INFERENCE_OUT, keys.INFERENCE_FAILED),
            "Objects under the key prefixes async inference reads (the request, which carries "
            "both images) and writes (outputs, failures) only.",
        )
        network.acknowledge_role(self)
        acknowledge_wildcards(
            self,
            [endpoint_logs],
            "The log streams of this endpoint's own log group (SageMaker names the streams).",
        )


def _endpoint_statements(
    bucket: s3.IBucket, repository: ecr.IRepository, topics: InferenceTopics, endpoint_logs: str
) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            sid="PullImage",
            actions=[
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            resources=[repository.repository_arn],
        ),
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        # The request JSON (SageMaker reads it for the network-isolated container): it carries
        # both images inline, so the container reads nothing else.
        iam.PolicyStatement(
            sid="ReadInferenceRequests",
            actions=["s3:GetObject"],
            resources=object_arns(bucket, keys.INFERENCE_IN),
        ),
        iam.PolicyStatement(
            sid="WriteInferenceOutputs",
            actions=["s3:PutObject"],
            resources=object_arns(bucket, keys.INFERENCE_OUT, keys.INFERENCE_FAILED),
        ),
        iam.PolicyStatement(
            sid="NotifyInferenceResult",
            actions=["sns:Publish"],
            resources=[topics.success.topic_arn, topics.error.topic_arn],
        ),
        iam.PolicyStatement(
            sid="EncryptForTopics",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[topics.key.key_arn],
        ),
        iam.PolicyStatement(
            sid="EndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
        ),
        iam.PolicyStatement(
            sid="EndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[endpoint_logs],
        ),
    ]


class AsyncEndpoint(Component):
    """Model → endpoint config (async, outputs under the base bucket) → endpoint (`Default`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        endpoint_name: str,
        image: str,
        role: iam.IRole,
        bucket: s3.IBucket,
        topics: InferenceTopics,
        network: IsolatedModelNetwork,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics = EndpointMetrics(endpoint_name)
        self.model = sagemaker.CfnModel(
            self,
            "FaceChainModel",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image,
                environment={EnvVar.SWAP_ENGINE.value: settings.swap_engine},
            ),
            # The container reaches nothing, not even S3: the request carries both images and
            # SageMaker moves the request and the result (docs/security.md, "Model network").
            enable_network_isolation=True,
            vpc_config=network.vpc_config(),
        )
        self.model.node.add_dependency(role)  # the role's policy before the model
        # Routes, the S3 endpoint and its policy in place before SageMaker uses the subnets.
        self.model.node.add_dependency(network)
        config = self._config(settings, bucket, topics)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Default",  # the logical id AsyncEndpoint: this component's own id
            endpoint_name=endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
        )

    def _config(
        self, settings: Settings, bucket: s3.IBucket, topics: InferenceTopics
    ) -> sagemaker.CfnEndpointConfig:
        bucket_url = f"s3://{bucket.bucket_name}"
        async_config = sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path=f"{bucket_url}/{keys.INFERENCE_OUT}",
                s3_failure_path=f"{bucket_url}/{keys.INFERENCE_FAILED}",
                notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                    success_topic=topics.success.topic_arn,
                    error_topic=topics.error.topic_arn,
                ),
            ),
            # One swap at a time per GPU: the backlog, not the instance, queues requests.
            client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=1
            ),
        )
        config = sagemaker.CfnEndpointConfig(
            self,
            "AsyncEndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    model_name=self.model.attr_model_name,
                    instance_type=settings.endpoint_instance_type,
                    initial_instance_count=1,  # creation needs one; autoscaling goes to zero
                    initial_variant_weight=1,
                )
            ],
            async_inference_config=async_config,
        )
        acknowledge(
            config,
            "AwsSolutions-SM2",
            "ml.g5 instances have NVMe instance storage, for which SageMaker rejects a KmsKeyId "
            "(the storage is hardware-encrypted); outputs go to the SSE bucket.",
        )
        return config


class EndpointAutoscaling(appscaling.ScalableTarget):
    """The endpoint variant's instance count, on its backlog: down to zero when nobody waits."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        endpoint: AsyncEndpoint,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint.endpoint.attr_endpoint_name}/variant/{VARIANT_NAME}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=0,  # no GPU bill while nobody is waiting
            max_capacity=settings.endpoint_max_instances,
        )
        self.node.add_dependency(endpoint.endpoint)
        self.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=settings.endpoint_backlog_per_instance,
            custom_metric=endpoint.metrics.metric("ApproximateBacklogSizePerInstance"),
            scale_in_cooldown=cdk.Duration.minutes(10),
            scale_out_cooldown=cdk.Duration.minutes(5),
        )
        # Target tracking cannot leave zero instances (backlog per instance is undefined there):
        # a step policy adds the first instance as soon as requests wait without capacity.
        self.scale_on_metric(
            "ScaleOutFromZero",
            metric=endpoint.metrics.metric("HasBacklogWithoutCapacity"),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0.5, change=0),
                appscaling.ScalingInterval(lower=0.5, change=1),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=cdk.Duration.minutes(5),
            evaluation_periods=1,
        )
