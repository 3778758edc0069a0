"""The REST API: Cognito authorizer on every method, validation, CORS, throttling, access logs.

stacks/apigateway/rest_api.py holds the API and its stage; routes.py its methods, one per route
of the resolvers (style_backend.edge.api.routes).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.apigateway.rest_api import RestApi
from stacks.apigateway.routes import CognitoRoutes
from stacks.settings import Settings
from stacks.shared import ProjectStack


class ApiStack(ProjectStack):
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
        rest_api = RestApi(self, "RestApi", settings=settings)
        self.api = rest_api.api
        # Named by its path (the stack's child), as API Gateway shows it.
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "CognitoAuthorizer", cognito_user_pools=[user_pool]
        )
        self.routes = CognitoRoutes(
            self,
            "Routes",
            api=self.api,
            validation=rest_api.validation,
            authorizer=authorizer,
            functions=functions,
        )
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "Region", value=self.region)
