"""The WebSocket API (API Gateway v2): `$connect` (the Cognito ID token of `?token=`, verified by
the connect function: common.tokens), `$disconnect`, the connections table with TTL, a throttled
stage with access logs. Clients never send: no other route is declared, so a message a client
sends gets API Gateway's "Forbidden" and reaches no function."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from common.live import BY_USER, LiveEnv
from stacks.nag import acknowledge
from stacks.settings import Settings
from stacks.shared import Component, ProjectFunction, ProjectKey, ProjectLogGroup, ProjectTable

STAGE_NAME = "prod"
GROUP = "live"  # lambda/live
# What each access log line holds: enough to follow one connection, no token (the query string).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "error": "$context.error.message",
}


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, destination: apigw.IAccessLogDestination, log_format) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self):
        return self._format


class WebSocketApi(Component):
    """`.api`, `.stage`, `.connections` (the table), `.connect` and `.disconnect` (functions)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        layer: lambda_.ILayerVersion,
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = ProjectKey(
            self, "ConnectionsKey", settings=settings, description="Live progress connections"
        )
        self.connections = ProjectTable(
            self,
            "ConnectionsTable",
            settings=settings,
            partition="connectionId",
            ttl=True,
            encryption_key=self.key,
        )
        self.connections.add_index(BY_USER, "userId")
        environment = {
            LiveEnv.CONNECTIONS_TABLE: self.connections.table_name,
            LiveEnv.USER_POOL_ID: user_pool.user_pool_id,
            LiveEnv.USER_POOL_CLIENT_ID: client.user_pool_client_id,
        }

        def function(name: str, handler: str, description: str) -> ProjectFunction:
            return ProjectFunction(
                self,
                name,
                handler=handler,
                group=GROUP,
                settings=settings,
                layers=[layer],
                environment=environment,  # type: ignore[arg-type]
                description=description,
                timeout=cdk.Duration.seconds(10),
            )

        self.connect = function(
            "LiveConnectFunction", "connections.connect", "$connect: verify the ID token"
        )
        self.connect.allow_table("Connections", self.connections, "PutItem")
        self.disconnect = function(
            "LiveDisconnectFunction", "connections.disconnect", "$disconnect: forget it"
        )
        self.disconnect.allow_table("Connections", self.connections, "DeleteItem")
        self._api(settings)

    def _api(self, settings: Settings) -> None:
        route = apigw.WebSocketRouteOptions
        self.api = apigw.WebSocketApi(
            self,
            "Default",
            api_name=f"{settings.project_name}-live",
            description="Style Backend live progress (WebSocket)",
            connect_route_options=route(
                integration=integrations.WebSocketLambdaIntegration(
                    "ConnectIntegration", self.connect.function
                )
            ),
            disconnect_route_options=route(
                integration=integrations.WebSocketLambdaIntegration(
                    "DisconnectIntegration", self.disconnect.function
                )
            ),
        )
        access_logs = ProjectLogGroup(self, "LiveAccessLogs", settings=settings)
        self.stage = apigw.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.api_rate_limit, burst_limit=settings.api_burst_limit
            ),
            access_log_settings=_AccessLogs(
                apigw.LogGroupLogDestination(access_logs),
                cdk.aws_apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        for node in self.api.node.find_all():
            if isinstance(node, cdk.CfnResource) and node.cfn_resource_type.endswith("::Route"):
                acknowledge(
                    node,
                    "AwsSolutions-APIG4",
                    "A WebSocket API authorizes at $connect only: the connect function verifies "
                    "the Cognito ID token (?token=) and refuses the socket with 401 otherwise; "
                    "$disconnect only deletes the connection's own row.",
                )

    @property
    def endpoint(self) -> str:
        """wss://{api}.execute-api.{region}.amazonaws.com/{stage}: the URL clients open."""
        return f"{self.api.api_endpoint}/{STAGE_NAME}"
