"""The live progress publisher: one function fed by two DynamoDB streams (the album table's job
and share items, the process table's processes; Lambda's event filters drop the rest before any
invocation), pushing to the WebSocket API's management endpoint (lambda/live/publisher.py)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from common.live import BY_USER, LiveEnv
from faceflow.config import AlbumEnv
from faceflow.storage import keys as album_keys
from stacks.live.websocket import GROUP, STAGE_NAME, WebSocketApi
from stacks.settings import Settings
from stacks.shared import Component, ProjectFunction
from stacks.shared.alarms import operator_alarms
from style_backend.config import EnvVar
from style_backend.storage import keys as process_keys

# Only what a message is made of reaches the function: a job's or a share's change in the album
# table (not photos, faces, digests, the people state or the owner's share lookups)…
ALBUM_FILTER = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {
        "Keys": {
            "PK": {"S": [{"prefix": album_keys.ALBUM}]},
            "SK": {"S": [{"prefix": album_keys.JOB}, {"prefix": album_keys.SHARE}]},
        }
    },
}
# …and a process with an owner (erasure's tombstones and markers have none).
PROCESS_FILTER = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"userId": {"S": [{"exists": True}]}}},
}
# Progress is worth sending for a minute; after that the client's next poll knows better.
MAX_RECORD_AGE = cdk.Duration.seconds(60)


class ProgressPublisher(Component):
    """`.function` (ProgressPublisherFunction), its two stream mappings and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        layer: lambda_.ILayerVersion,
        websocket: WebSocketApi,
        album_table: ddb.ITable,
        process_table: ddb.ITable,
        results_bucket: s3.IBucket,
        results_bucket_arn: str,
        operations_topic: sns.ITopic,
    ) -> None:
        """`results_bucket_arn`: the base bucket's ARN as its stack's named export (the
        wildcard finding on `results/*` names the export, not a hash)."""
        super().__init__(scope, construct_id)
        self.function = ProjectFunction(
            self,
            "ProgressPublisherFunction",
            handler="publisher.handler",
            group=GROUP,
            settings=settings,
            layers=[layer],
            environment={  # type: ignore[dict-item]
                LiveEnv.CONNECTIONS_TABLE: websocket.connections.table_name,
                LiveEnv.WEBSOCKET_ENDPOINT: websocket.endpoint,
                AlbumEnv.TABLE: album_table.table_name,
                EnvVar.PROCESS_TABLE: process_table.table_name,
                EnvVar.BUCKET_NAME: results_bucket.bucket_name,
                EnvVar.RESULT_URL_EXPIRY_SECONDS: str(settings.result_url_expiry_seconds),
            },
            description="Live progress: table streams → the owners' WebSocket connections",
            timeout=cdk.Duration.seconds(30),
        )
        self._grant(websocket, album_table, results_bucket_arn)
        for name, table, pattern in (
            ("Albums", album_table, ALBUM_FILTER),
            ("Processes", process_table, PROCESS_FILTER),
        ):
            self._stream(name, table, pattern)
        self.function.allow(
            "ListStreams",
            ["dynamodb:ListStreams"],
            ["*"],
            wildcard_reason="dynamodb:ListStreams supports no resource-level permissions; Lambda's "
            "stream poller calls it (the streams it reads are named in ReadAlbumsStream and "
            "ReadProcessesStream).",
        )
        self._alarms(operations_topic)

    def _grant(self, websocket: WebSocketApi, album_table: ddb.ITable, bucket_arn: str) -> None:
        fn = self.function
        fn.allow_table(
            "Connections", websocket.connections, "Query", "DeleteItem", indexes=[BY_USER]
        )
        fn.allow_table(
            "Album", album_table, "GetItem", "Query"
        )  # faceflow.edge.albums.album_status
        fn.allow(
            "SignResults",
            ["s3:GetObject"],
            [f"{bucket_arn}/{process_keys.RESULTS}*"],
            wildcard_reason="The styled results only (process.status carries their URLs).",
        )
        fn.allow(
            "PushToConnections",
            ["execute-api:ManageConnections"],
            [
                cdk.Stack.of(self).format_arn(
                    service="execute-api",
                    resource=websocket.api.api_id,
                    resource_name=f"{STAGE_NAME}/POST/@connections/*",
                )
            ],
            wildcard_reason="Any connection of this API's stage (connection ids are made per "
            "socket); POST only, the push.",
        )

    def _stream(self, name: str, table: ddb.ITable, pattern: dict) -> None:
        stream = table.table_stream_arn
        if stream is None:
            raise ValueError(f"{name}: the table has no stream")
        self.function.allow(
            f"Read{name}Stream",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            [stream],
        )
        if table.encryption_key is not None:
            region = cdk.Stack.of(self).region
            self.function.allow(
                f"Decrypt{name}Stream",
                ["kms:Decrypt"],
                [table.encryption_key.key_arn],
                # The stream's records, read through DynamoDB only.
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"}},
            )
        self.function.function.add_event_source_mapping(
            f"{name}StreamMapping",
            event_source_arn=stream,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=100,
            retry_attempts=2,
            bisect_batch_on_error=True,
            max_record_age=MAX_RECORD_AGE,
            filters=[lambda_.FilterCriteria.filter(pattern)],
        )

    def _alarms(self, topic: sns.ITopic) -> None:
        fn = self.function.function
        five = cdk.Duration.minutes(5)
        alarms = (
            (
                "ProgressPublisherErrors",
                fn.metric_errors(period=five, statistic="Sum"),
                1,
                "Live progress pushes that failed (clients fall back to polling)",
            ),
            (
                "ProgressPublisherLag",
                fn.metric("IteratorAge", period=five, statistic="Maximum"),
                MAX_RECORD_AGE.to_milliseconds(),
                "Live progress behind its tables by a minute",
            ),
        )
        operator_alarms(self, topic, alarms)
