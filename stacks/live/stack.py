"""Live progress (`{project}-live`): the WebSocket API (stacks/live/websocket.py) and the
publisher of the album and process tables' changes (stacks/live/publisher.py), with their
alarms. Deployed after the tables, the user pool and the albums, whose streams it reads."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.live.publisher import ProgressPublisher
from stacks.live.websocket import WebSocketApi
from stacks.settings import Settings
from stacks.shared import ProjectStack, SharedLayer


class LiveStack(ProjectStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
        album_table: ddb.ITable,
        process_table: ddb.ITable,
        results_bucket: s3.IBucket,
        operations_topic: sns.ITopic,
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        layer = SharedLayer(self, "LiveSharedLayer")
        self.websocket = WebSocketApi(
            self, "WebSocket", settings=settings, layer=layer, user_pool=user_pool, client=client
        )
        self.publisher = ProgressPublisher(
            self,
            "Publisher",
            settings=settings,
            layer=layer,
            websocket=self.websocket,
            album_table=album_table,
            process_table=process_table,
            results_bucket=results_bucket,
            # The Storage stack's own named export.
            results_bucket_arn=cdk.Fn.import_value(
                f"{cdk.Stack.of(results_bucket).stack_name}-BaseBucketArn"
            ),
            operations_topic=operations_topic,
        )
        self._connect_alarm(operations_topic)
        cdk.CfnOutput(self, "WebSocketUrl", value=self.websocket.endpoint)

    def _connect_alarm(self, topic: sns.ITopic) -> None:
        """A refused token is a 401, not an error: errors mean the connect function broke."""
        metric = self.websocket.connect.function.metric_errors(
            period=cdk.Duration.minutes(5), statistic="Sum"
        )
        alarm = cw.Alarm(
            self,
            "LiveConnectErrors",
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="The WebSocket $connect function failed (no live progress)",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
