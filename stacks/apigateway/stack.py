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

STAGE_NAME = "prod"

# route → (HTTP method → function key of FunctionsStack.api_functions); docs/architecture.md
ROUTES: dict[str, dict[str, str]] = {
    "/agree": {"GET": "agreement", "POST": "agreement"},
    "/apis/styles": {"GET": "styles"},
    "/apis/images/upload": {"POST": "upload"},
    "/apis/images/{userId}": {"GET": "images", "DELETE": "erasure"},
    "/apis/images/{userId}/processes/{processId}": {"GET": "images"},
}

# API Gateway's own errors (authorizer, validation, throttling) in the API's error shape.
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
        functions: Mapping[str, lambda_.IFunction],
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
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=origins,
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Amz-Date"],
                max_age=cdk.Duration.hours(1),
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
        allow_origin = "'*'" if origins == ["*"] else f"'{origins[0]}'"
        for response_type in (apigw.ResponseType.DEFAULT_4_XX, apigw.ResponseType.DEFAULT_5_XX):
            self.api.add_gateway_response(
                f"Gateway{response_type.response_type}",
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": allow_origin},
                templates={"application/json": _ERROR_TEMPLATE},
            )

        # Referenced by ARN: the permissions for API Gateway are created in this stack.
        integrations = {
            key: apigw.LambdaIntegration(
                lambda_.Function.from_function_attributes(
                    self,
                    f"{key.capitalize()}FunctionRef",
                    function_arn=fn.function_arn,
                    same_environment=True,
                ),
                allow_test_invoke=False,
            )
            for key, fn in functions.items()
        }
        for path, methods in ROUTES.items():
            resource = self.api.root.resource_for_path(path)
            params = {
                f"method.request.path.{seg[1:-1]}": True
                for seg in path.split("/")
                if seg.startswith("{")
            }
            for method, key in methods.items():
                with_body = method == "POST"
                resource.add_method(
                    method,
                    integrations[key],
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
