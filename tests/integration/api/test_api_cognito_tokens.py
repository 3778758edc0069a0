"""Tokens issued by moto's Cognito (what the local runtime signs in with) pass the same authorizer,
with the JWKS fetched from the pool's issuer URL as a real deployment's would be."""

import boto3
import requests

from local.apigw import ApiGateway, CognitoTokenVerifier, routes_from_specs
from tests.integration.api.conftest import TERMS


def test_moto_cognito_tokens_drive_the_api(aws):
    idp = boto3.client("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ann@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username="ann@example.com", Password="Secret-Pass-1", Permanent=True
    )
    tokens = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": "Secret-Pass-1"},
    )["AuthenticationResult"]
    issuer = f"https://cognito-idp.us-west-2.amazonaws.com/{pool_id}"
    jwks = requests.get(f"{issuer}/.well-known/jwks.json", timeout=5).json()
    gateway = ApiGateway(routes_from_specs(), CognitoTokenVerifier(jwks, issuer, client_id))
    sub = idp.admin_get_user(UserPoolId=pool_id, Username="ann@example.com")["UserAttributes"]
    sub = next(a["Value"] for a in sub if a["Name"] == "sub")

    for token in (tokens["IdToken"], tokens["AccessToken"]):
        status, _, body = gateway.handle(
            "POST",
            "/agree",
            {"Authorization": token, "Content-Type": "application/json"},
            f'{{"termsVersion": "{TERMS}"}}',
        )
        assert status == 201, body
    status, _, _ = gateway.handle(
        "GET", f"/apis/images/{sub}", {"Authorization": tokens["IdToken"]}
    )
    assert status == 200
    other = CognitoTokenVerifier(jwks, issuer, "another-client")
    status, _, _ = ApiGateway(routes_from_specs(), other).handle(
        "GET", "/agree", {"Authorization": tokens["IdToken"]}
    )
    assert status == 401
