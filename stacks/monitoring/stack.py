"""Operations: the operators' topic (deployed first) and the alarms + dashboard (deployed last).

Two stacks because the topic is used by the image build (FaceChain stack) while the alarms
watch every other stack: one stack would be a dependency cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.settings import Settings

FIVE_MINUTES = cdk.Duration.minutes(5)
# A request older than this in the async backlog means the endpoint is stuck or cannot scale.
MAX_BACKLOG_AGE_SECONDS = 30 * 60


class AlertsStack(cdk.Stack):
    """The operators' SNS topic (encrypted): alarms and the build events publish to it."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.key = kms.Key(
            self,
            "OperationsTopicKey",
            enable_key_rotation=True,
            description="Operators' alarm topic",
            removal_policy=settings.cdk_removal_policy,
        )
        # CloudWatch alarms publish with the service's identity: it must be able to use the key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.topic = sns.Topic(
            self, "OperationsTopic", master_key=self.key, enforce_ssl=True, display_name="Style ops"
        )
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        cdk.CfnOutput(self, "OperationsTopicArn", value=self.topic.topic_arn)


class MonitoringStack(cdk.Stack):
    """Alarms on Lambda errors, dead-letter queues, API 5xx and the async endpoint; a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        functions: Sequence[lambda_.IFunction],
        dead_letter_queues: Sequence[sqs.IQueue],
        api: apigw.RestApi,
        endpoint_name: str,
        error_topic: sns.ITopic,
        dead_letter_consumer: lambda_.IFunction | None = None,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        self._action = cw_actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []
        for fn in functions:
            name = fn.node.id
            self._alarm(
                f"{name}Errors",
                fn.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                f"{name} raised errors",
            )
        for queue in dead_letter_queues:
            self._alarm(
                f"{queue.node.id}Messages",
                queue.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                f"events failed every retry and wait in {queue.node.id}",
            )
        if dead_letter_consumer is not None:  # it empties the queues: watch what it handles
            self._alarm(
                "PipelineEventsExhausted",
                dead_letter_consumer.metric_invocations(period=FIVE_MINUTES, statistic="Sum"),
                "pipeline events failed every retry: their styles were ended FAILED",
            )
        self._alarm(
            "Api5xx", api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"), "API 5xx"
        )
        failed = error_topic.metric_number_of_messages_published(
            period=FIVE_MINUTES, statistic="Sum"
        )
        self._alarm("InferenceFailures", failed, "async inference invocations failed")
        backlog_age = cw.Metric(
            namespace="AWS/SageMaker",
            metric_name="ApproximateAgeOfOldestRequest",
            dimensions_map={"EndpointName": endpoint_name},
            statistic="Maximum",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "InferenceBacklogged",
            backlog_age,
            f"a request waited more than {MAX_BACKLOG_AGE_SECONDS // 60} min in the async backlog",
            threshold=MAX_BACKLOG_AGE_SECONDS,
            evaluation_periods=2,
        )
        self._dashboard(functions, dead_letter_queues, api, endpoint_name, failed)

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        description: str,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _dashboard(
        self,
        functions: Sequence[lambda_.IFunction],
        queues: Sequence[sqs.IQueue],
        api: apigw.RestApi,
        endpoint_name: str,
        failed: cw.IMetric,
    ) -> None:
        def endpoint_metric(name: str, statistic: str = "Average") -> cw.Metric:
            return cw.Metric(
                namespace="AWS/SageMaker",
                metric_name=name,
                dimensions_map={"EndpointName": endpoint_name},
                statistic=statistic,
                period=cdk.Duration.minutes(1),
            )

        board = cw.Dashboard(self, "FlowDashboard", dashboard_name=f"{self.stack_name}-flow")
        board.add_widgets(
            cw.GraphWidget(
                title="API requests and errors",
                left=[api.metric_count(), api.metric_client_error(), api.metric_server_error()],
                right=[api.metric_latency(statistic="p90")],
                width=12,
            ),
            cw.GraphWidget(
                title="Dead-letter queues",
                left=[q.metric_approximate_number_of_messages_visible() for q in queues],
                width=12,
            ),
        )
        board.add_widgets(
            cw.GraphWidget(
                title="Lambda invocations",
                left=[fn.metric_invocations() for fn in functions],
                width=8,
            ),
            cw.GraphWidget(
                title="Lambda errors", left=[fn.metric_errors() for fn in functions], width=8
            ),
            cw.GraphWidget(
                title="Lambda duration p90",
                left=[fn.metric_duration(statistic="p90") for fn in functions],
                width=8,
            ),
        )
        board.add_widgets(
            cw.GraphWidget(
                title="Async inference backlog",
                left=[
                    endpoint_metric("ApproximateBacklogSize"),
                    endpoint_metric("HasBacklogWithoutCapacity", "Maximum"),
                ],
                right=[endpoint_metric("ApproximateAgeOfOldestRequest", "Maximum")],
                width=12,
            ),
            cw.GraphWidget(title="Async inference failures", left=[failed], width=12),
        )
