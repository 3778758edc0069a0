"""Operations: the operators' topic (deployed first) and the alarms + dashboard (deployed last).

Two stacks because the topic is used by the image build (FaceChain stack) while the alarms
watch every other stack: one stack would be a dependency cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.facechain.endpoint import EndpointMetrics
from stacks.settings import Settings
from stacks.shared import Component, ProjectKey, ProjectStack

FIVE_MINUTES = cdk.Duration.minutes(5)
# A request older than this in the async backlog means the endpoint is stuck or cannot scale.
MAX_BACKLOG_AGE_SECONDS = 30 * 60


class AlertsStack(ProjectStack):
    """The operators' SNS topic (encrypted): alarms and the build events publish to it."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.key = ProjectKey(
            self,
            "OperationsTopicKey",
            settings=settings,
            description="Operators' alarm topic",
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


class MonitoringStack(ProjectStack):
    """Alarms on Lambda errors, dead-letter queues, API 5xx and the async endpoint; a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction],  # by construct id (FaceCropFunction, …)
        dead_letter_queues: Sequence[sqs.IQueue],
        api: apigw.RestApi,
        endpoint_name: str,
        error_topic: sns.ITopic,
        dead_letter_consumer: lambda_.IFunction | None = None,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        endpoint = EndpointMetrics(endpoint_name)
        failed = error_topic.metric_number_of_messages_published(
            period=FIVE_MINUTES, statistic="Sum"
        )
        self.alarms = FlowAlarms(
            self,
            "Alarms",
            topic=topic,
            functions=functions,
            dead_letter_queues=dead_letter_queues,
            api=api,
            endpoint=endpoint,
            inference_failures=failed,
            dead_letter_consumer=dead_letter_consumer,
        )
        FlowDashboard(
            self,
            "FlowDashboard",
            functions=list(functions.values()),
            queues=dead_letter_queues,
            api=api,
            endpoint=endpoint,
            inference_failures=failed,
        )


class FlowAlarms(Component):
    """Every failure signal of the flow, each an alarm that notifies the operators' topic:
    `<Function>Errors`, `<Queue>Messages`, `Api5xx`, `InferenceFailures`, `InferenceBacklogged`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Sequence[sqs.IQueue],
        api: apigw.RestApi,
        endpoint: EndpointMetrics,
        inference_failures: cw.IMetric,
        dead_letter_consumer: lambda_.IFunction | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cw_actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []
        for name, fn in functions.items():
            errors = fn.metric_errors(period=FIVE_MINUTES, statistic="Sum")
            self._alarm(f"{name}Errors", errors, f"{name} raised errors")
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
                "pipeline events failed every retry: their processes or styles were ended FAILED",
            )
        server_errors = api.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm("Api5xx", server_errors, "API 5xx")
        self._alarm("InferenceFailures", inference_failures, "async inference invocations failed")
        self._alarm(
            "InferenceBacklogged",
            endpoint.metric("ApproximateAgeOfOldestRequest", "Maximum", FIVE_MINUTES),
            f"a request waited more than {MAX_BACKLOG_AGE_SECONDS // 60} min in the async backlog",
            threshold=MAX_BACKLOG_AGE_SECONDS,
            evaluation_periods=2,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        description: str,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
    ) -> None:
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


class FlowDashboard(cw.Dashboard):
    """`<monitoring stack name>-flow`: API, dead-letter queues, functions, async inference."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[lambda_.IFunction],
        queues: Sequence[sqs.IQueue],
        api: apigw.RestApi,
        endpoint: EndpointMetrics,
        inference_failures: cw.IMetric,
    ) -> None:
        super().__init__(
            scope, construct_id, dashboard_name=f"{cdk.Stack.of(scope).stack_name}-flow"
        )
        self.add_widgets(
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
        self.add_widgets(
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
        self.add_widgets(
            cw.GraphWidget(
                title="Async inference backlog",
                left=[
                    endpoint.metric("ApproximateBacklogSize"),
                    endpoint.metric("HasBacklogWithoutCapacity", "Maximum"),
                ],
                right=[endpoint.metric("ApproximateAgeOfOldestRequest", "Maximum")],
                width=12,
            ),
            cw.GraphWidget(title="Async inference failures", left=[inference_failures], width=12),
        )
