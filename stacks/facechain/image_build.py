"""The FaceChain image build, awaited at deploy time: the endpoint is created only after it.

The custom resource `ImageBuild` starts the CodeBuild build of the image tag (BuildTriggerFunction,
onEvent) and waits on THAT build id (BuildStatusFunction, isComplete, every 30 s for up to one
hour). Every state change of the project's builds reaches the operators (BuildEventsFunction).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_wildcards, skip_checkov
from stacks.settings import Settings
from stacks.shared import Component, ProjectFunction, ProjectLogGroup, SharedLayer
from stacks.shared.function import skip_cdk_functions
from style_backend.config import EnvVar

GROUP = "facechain_codebuild"  # lambda/facechain_codebuild: the code asset of these functions


class ImageBuild(Component):
    """`.resource` (Custom::FaceChainImageBuild, the `Default` child) exists once the image of
    `image_tag` is in ECR: BuildTriggerFunction starts its build, BuildStatusFunction awaits it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        project: codebuild.IProject,
        image_tag: str,
        common: dict,  # what every build function gets (build_function_options)
    ) -> None:
        super().__init__(scope, construct_id)
        trigger = ProjectFunction(
            self,
            "BuildTriggerFunction",
            handler="build_trigger.on_event",
            description="Custom resource onEvent: starts the FaceChain image build",
            timeout=cdk.Duration.seconds(60),
            **common,
        )
        trigger.allow("StartImageBuild", ["codebuild:StartBuild"], [project.project_arn])
        status = ProjectFunction(
            self,
            "BuildStatusFunction",
            handler="build_status.is_complete",
            description="Custom resource isComplete: waits on the build that onEvent started",
            timeout=cdk.Duration.seconds(60),
            **common,
        )
        status.allow("ReadImageBuild", ["codebuild:BatchGetBuilds"], [project.project_arn])
        self.functions = [trigger, status]
        provider = self._provider(settings, trigger, status)
        self.resource = cdk.CustomResource(
            self,
            "Default",  # the logical id ImageBuild: this component's own id
            service_token=provider.service_token,
            resource_type="Custom::FaceChainImageBuild",
            # A new tag (new container inputs) is an Update: a new build of that tag.
            properties={"ProjectName": project.project_name, "ImageTag": image_tag},
        )

    def _provider(
        self, settings: Settings, trigger: ProjectFunction, status: ProjectFunction
    ) -> cr.Provider:
        provider_logs = ProjectLogGroup(self, "BuildProviderLogs", settings=settings)
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
        _acknowledge_provider(provider, [trigger.function, status.function])
        return provider


def build_function_options(
    scope: Construct, settings: Settings, project: codebuild.IProject, topic: sns.ITopic
) -> dict:
    """The group, settings, layer and environment every build function shares."""
    return {
        "group": GROUP,
        "settings": settings,
        "layers": [SharedLayer(scope)],
        "environment": {
            EnvVar.BUILD_PROJECT_NAME: project.project_name,
            EnvVar.OPERATIONS_TOPIC_ARN: topic.topic_arn,
        },
    }


class BuildEventsFunction(ProjectFunction):
    """CodeBuild state changes of the image build → operators' topic + metric. Its EventBridge
    rule, BuildStateRule, sits beside it: the rule's permission and DLQ grant are named by paths."""

    def __init__(self, scope: Construct, *, topic: sns.ITopic, key: kms.IKey, common: dict) -> None:
        super().__init__(
            scope,
            "BuildEventsFunction",
            handler="build_events.handler",
            description="CodeBuild state changes of the image build → operators' topic + metric",
            asynchronous=True,
            dead_letters_sqs_managed_because="CodeBuild build state events only (project, build "
            "id, phase): no personal data. EventBridge writes its failures here too, and a "
            "customer key's policy would have to name the rule, which names this queue.",
            **common,
        )
        self.allow("NotifyOperators", ["sns:Publish"], [topic.topic_arn])
        self.allow(
            "EncryptForOperationsTopic", ["kms:GenerateDataKey", "kms:Decrypt"], [key.key_arn]
        )


class BuildStateRule(events.Rule):
    """Every state change of the project's builds → BuildEventsFunction (DLQ after 2 retries)."""

    def __init__(
        self, scope: Construct, *, project: codebuild.IProject, target: BuildEventsFunction
    ) -> None:
        super().__init__(
            scope,
            "BuildStateRule",
            description="FaceChain image build state changes → BuildEventsFunction",
            event_pattern=events.EventPattern(
                source=["aws.codebuild"],
                detail_type=["CodeBuild Build State Change"],
                detail={"project-name": [project.project_name]},
            ),
            targets=[
                targets.LambdaFunction(
                    target.function,
                    dead_letter_queue=target.dead_letter_queue,
                    retry_attempts=2,
                    max_event_age=cdk.Duration.hours(2),
                )
            ],
        )


def _acknowledge_provider(provider: cr.Provider, handlers: list) -> None:
    skip_cdk_functions(provider)
    waiter_policy = provider.node.find_child("waiter-state-machine").node.find_child("Role")
    skip_checkov(
        waiter_policy.node.find_child("DefaultPolicy"),
        "CKV_AWS_111",
        "CDK's Provider waiter state machine: CloudWatch Logs delivery actions "
        "(logs:CreateLogDelivery, …) support no resource-level permission.",
    )
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
