"""The embedding endpoint, deployed only once a trained model is named in the context.

`faceflow_embedding_model_package` names a registered model package version (ARN). Until it is
set no endpoint exists and FaceFlow embeds with the default (SFace). Changing it replaces the
SageMaker Model and EndpointConfig; CloudFormation then updates the endpoint, which SageMaker does
blue/green: a new fleet is started with the new model, traffic shifts to it all at once once it
passes health checks, the old fleet waits TERMINATION_WAIT_S (so a rollback is instant), and the
update rolls back by itself if the endpoint's 5xx alarm fires while it is underway.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import Settings

VARIANT = "AllTraffic"
TERMINATION_WAIT_S = 600


class EmbeddingEndpoint(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        role: iam.IRole,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint_name = f"{settings.project_name}-faceflow-embedding".lower()
        model = self._model(settings, role)
        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            kms_key_id=key.key_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT,
                    model_name=model.attr_model_name,
                    instance_type=settings.faceflow_embedding_instance_type,
                    initial_instance_count=1,
                    initial_variant_weight=1,
                )
            ],
        )
        self.errors_alarm = self._errors_alarm()
        self.endpoint = self._endpoint(config)

    def _model(self, settings: Settings, role: iam.IRole) -> sagemaker.CfnModel:
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            containers=[
                sagemaker.CfnModel.ContainerDefinitionProperty(
                    model_package_name=settings.faceflow_embedding_model_package
                )
            ],
            # The container needs no network: SageMaker fetches the artifact for it.
            enable_network_isolation=True,
        )
        model.node.add_dependency(role)
        acknowledge(
            model,
            "AwsSolutions-SM1",
            "The project has no VPC; the network-isolated container reaches nothing, and "
            "SageMaker fetches its artifact with the endpoint role.",
        )
        return model

    def _errors_alarm(self) -> cw.Alarm:
        return cw.Alarm(
            self,
            "Errors",
            alarm_description="The embedding endpoint answers 5xx: a blue/green update rolls back",
            metric=cw.Metric(
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions_map={"EndpointName": self.endpoint_name, "VariantName": VARIANT},
                statistic="Sum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )

    def _endpoint(self, config: sagemaker.CfnEndpointConfig) -> sagemaker.CfnEndpoint:
        return sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                        type="ALL_AT_ONCE", wait_interval_in_seconds=60
                    ),
                    termination_wait_in_seconds=TERMINATION_WAIT_S,
                    maximum_execution_timeout_in_seconds=3600,
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[
                        sagemaker.CfnEndpoint.AlarmProperty(alarm_name=self.errors_alarm.alarm_name)
                    ]
                ),
            ),
        )
