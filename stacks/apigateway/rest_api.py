"""The REST API itself: stage, access logs, throttling, CORS preflight, errors, usage plan."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from common.api import CORS_HEADERS
from stacks.nag import acknowledge, skip_checkov
from stacks.settings import Settings
from stacks.shared import Component, ProjectLogGroup

STAGE_NAME = "prod"

# API Gateway's own errors (authorizer, validation, throttling) in the API's error shape; the
# local runtime (local/apigw.py) answers the same codes and bodies.
GATEWAY_RESPONSES = (
    apigw.ResponseType.UNAUTHORIZED,
    apigw.ResponseType.ACCESS_DENIED,
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    apigw.ResponseType.THROTTLED,
    apigw.ResponseType.DEFAULT_4_XX,
    apigw.ResponseType.DEFAULT_5_XX,
)
# The stage's throttle refills every second: a throttled client may try again after one, as
# docs/openapi.json says of every 429.
THROTTLED_HEADERS = {apigw.ResponseType.THROTTLED.response_type: {"Retry-After": "1"}}
_ERROR_TEMPLATE = (
    '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
)


class RestApi(Component):
    """`.api` (the RestApi, this construct's `Default` child), its `AccessLogs`, request
    validation, error responses and usage plan."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        access_logs = ProjectLogGroup(self, "AccessLogs", settings=settings)
        self.api = apigw.RestApi(
            self,
            "Default",
            rest_api_name=f"{settings.project_name}-api",
            description="Style Backend REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs need the account-level CloudWatch role; it is kept on delete
            # because it is shared by every API of the account and region.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            deploy_options=_stage_options(settings, access_logs),
            # Preflight answers what the handlers' responses allow (common.api).
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=settings.cors_origins,
                allow_methods=CORS_HEADERS["Access-Control-Allow-Methods"].split(","),
                allow_headers=CORS_HEADERS["Access-Control-Allow-Headers"].split(","),
                max_age=cdk.Duration.seconds(int(CORS_HEADERS["Access-Control-Max-Age"])),
            ),
        )
        self._acknowledge()
        skip_checkov(
            self.api.deployment_stage,
            "CKV_AWS_120",
            "No response cache: every answer is per user (Cognito identity) and carries presigned "
            "URLs that expire in minutes; a cached one would be stale or another user's.",
        )
        self.validation = RequestValidation(self.api)
        self._error_responses(settings.cors_origins[0])
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            description="Stage-wide throttle and quota",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.api_rate_limit, burst_limit=settings.api_burst_limit
            ),
            quota=apigw.QuotaSettings(limit=100_000, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )

    def _error_responses(self, origin: str) -> None:
        # A gateway response has one static header value: the first configured origin.
        cors = {**CORS_HEADERS, "Access-Control-Allow-Origin": origin}
        for response_type in GATEWAY_RESPONSES:
            headers = {**cors, **THROTTLED_HEADERS.get(response_type.response_type, {})}
            self.api.add_gateway_response(
                f"Gateway{response_type.response_type.title().replace('_', '')}",
                type=response_type,
                response_headers={name: f"'{value}'" for name, value in headers.items()},
                templates={"application/json": _ERROR_TEMPLATE},
            )

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role: AWS's managed policy is the documented "
            "way to let API Gateway write execution logs.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default (cost); every method needs a Cognito token and the stage "
            "is throttled. Attach a web ACL to the stage for production traffic.",
        )


class RequestValidation:
    """The API's validators and its JSON-object model; a handler validates the fields."""

    def __init__(self, api: apigw.RestApi) -> None:
        self.body_validator = api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.params_validator = api.add_request_validator(
            "ParametersValidator", validate_request_parameters=True
        )
        self.json_object = api.add_model(
            "JsonObject",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT
            ),
            description="A JSON object; the handler validates the fields",
        )


def _stage_options(settings: Settings, access_logs: logs.ILogGroup) -> apigw.StageOptions:
    return apigw.StageOptions(
        stage_name=STAGE_NAME,
        access_log_destination=apigw.LogGroupLogDestination(access_logs),
        access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
            caller=True,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=True,
        ),
        logging_level=apigw.MethodLoggingLevel.ERROR,
        data_trace_enabled=False,  # request bodies may carry personal data
        metrics_enabled=True,
        tracing_enabled=True,
        throttling_rate_limit=settings.api_rate_limit,
        throttling_burst_limit=settings.api_burst_limit,
    )
