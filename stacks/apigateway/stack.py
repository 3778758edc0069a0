"""The REST API: Cognito authorizer on every method, validation, CORS, throttling, access logs.

The functions live in the Lambda stack; this stack refers to them by ARN (`same_environment`),
so the invoke permissions are created HERE and the Lambda stack never depends on the API.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import Settings
from style_backend.api.edge import CORS_HEADERS
from style_backend.api.routes import routes

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
_ERROR_TEMPLATE = (
    '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString}}'
)


class ApiStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        user_pool: cognito.IUserPool,
        functions: Mapping[str, lambda_.IFunction],  # by construct id (AgreementFunction, …)
        **kw,
    ) -> None:
        super().__init__(scope, construct_id, **kw)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=settings.cdk_log_retention,
            removal_policy=settings.cdk_removal_policy,
        )
        origins = settings.cors_origins
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{settings.project_name}-api",
            description="Style Backend REST API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs need the account-level CloudWatch role; it is kept on delete
            # because it is shared by every API of the account and region.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
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
            ),
            # Preflight answers what the handlers' responses allow (style_backend.api.edge).
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=origins,
                allow_methods=CORS_HEADERS["Access-Control-Allow-Methods"].split(","),
                allow_headers=CORS_HEADERS["Access-Control-Allow-Headers"].split(","),
                max_age=cdk.Duration.seconds(int(CORS_HEADERS["Access-Control-Max-Age"])),
            ),
        )
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
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "CognitoAuthorizer", cognito_user_pools=[user_pool]
        )
        self.body_validator = self.api.add_request_validator(
            "BodyValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.params_validator = self.api.add_request_validator(
            "ParametersValidator", validate_request_parameters=True
        )
        self.json_object = self.api.add_model(
            "JsonObject",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT
            ),
            description="A JSON object; the handler validates the fields",
        )
        # A gateway response has one static header value: the first configured origin.
        cors = {**CORS_HEADERS, "Access-Control-Allow-Origin": origins[0]}
        for response_type in GATEWAY_RESPONSES:
            self.api.add_gateway_response(
                f"Gateway{response_type.response_type.title().replace('_', '')}",
                type=response_type,
                response_headers={name: f"'{value}'" for name, value in cors.items()},
                templates={"application/json": _ERROR_TEMPLATE},
            )

        # Referenced by ARN: the permissions for API Gateway are created in this stack.
        integrations = {
            construct_id: apigw.LambdaIntegration(
                lambda_.Function.from_function_attributes(
                    self,
                    f"{construct_id}Ref",
                    function_arn=fn.function_arn,
                    same_environment=True,
                ),
                allow_test_invoke=False,
            )
            for construct_id, fn in functions.items()
        }
        # The routes the API functions' resolvers declare (style_backend.api.routes): the same
        # table serves OpenAPI and the local gateway.
        for route in routes():
            resource = self.api.root.resource_for_path(route.path)
            params = {f"method.request.path.{name}": True for name in route.path_params}
            with_body = route.has_body
            resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.COGNITO,
                request_validator=self.body_validator if with_body else self.params_validator,
                request_models={"application/json": self.json_object} if with_body else None,
                request_parameters=params or None,
            )

        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            description="Stage-wide throttle and quota",
            throttle=apigw.ThrottleSettings(
                rate_limit=settings.api_rate_limit, burst_limit=settings.api_burst_limit
            ),
            quota=apigw.QuotaSettings(limit=100_000, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "Region", value=self.region)
