"""The API's methods: every route the API functions' resolvers declare
(style_backend.edge.api.routes; the one place routes are read), each behind the Cognito
authorizer and a request validator, integrated with its function.

The functions live in the Lambda stack; they are referred to by ARN (`same_environment`), so the
invoke permissions are created in the API stack and the Lambda stack never depends on the API.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.apigateway.rest_api import RequestValidation
from stacks.shared import Component
from style_backend.edge.api.routes import routes


class CognitoRoutes(Component):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        validation: RequestValidation,
        authorizer: apigw.IAuthorizer,
        functions: Mapping[str, lambda_.IFunction],  # by construct id (AgreementFunction, …)
    ) -> None:
        super().__init__(scope, construct_id)
        self.authorizer = authorizer
        self.validation = validation
        integrations = {
            construct_id: apigw.LambdaIntegration(
                lambda_.Function.from_function_attributes(
                    self, f"{construct_id}Ref", function_arn=fn.function_arn, same_environment=True
                ),
                allow_test_invoke=False,
            )
            for construct_id, fn in functions.items()
        }
        self._add_routes(api, integrations)

    def _add_routes(
        self, api: apigw.RestApi, integrations: Mapping[str, apigw.Integration]
    ) -> None:
        # The resolvers' routes (style_backend.edge.api.routes): the same table serves OpenAPI
        # and the local gateway.
        v = self.validation
        for route in routes():
            resource = api.root.resource_for_path(route.path)
            params = {f"method.request.path.{name}": True for name in route.path_params}
            with_body = route.has_body
            resource.add_method(
                route.method,
                integrations[route.function],
                authorizer=self.authorizer,
                authorization_type=apigw.AuthorizationType.COGNITO,
                request_validator=v.body_validator if with_body else v.params_validator,
                request_models={"application/json": v.json_object} if with_body else None,
                request_parameters=params or None,
            )
