"""The API Gateway emulation itself: proxy events, claims, response mapping, routing."""

import base64
import json

import pytest

from local.apigw import (
    ApiGateway,
    CognitoTokenVerifier,
    Route,
    Unauthorized,
    authorizer_claims,
    to_proxy_event,
)
from tests.tokens import CLIENT_ID, ISSUER, CognitoPool


@pytest.fixture(scope="module")
def pool():
    return CognitoPool()


@pytest.fixture(scope="module")
def verifier(pool):
    return CognitoTokenVerifier(pool.jwks, ISSUER, CLIENT_ID)


def test_proxy_event_has_the_rest_api_v1_shape():
    event = to_proxy_event(
        "GET",
        "/apis/images/u-1",
        [("Accept", "a"), ("X-Multi", "1"), ("X-Multi", "2"), ("User-Agent", "ua/1")],
        [("limit", "5"), ("tag", "a"), ("tag", "b")],
        None,
        {"sub": "u-1", "exp": 1700000000, "email_verified": True},
        {"userId": "u-1"},
        stage="prod",
        resource="/apis/images/{userId}",
        source_ip="10.0.0.9",
    )
    assert event["resource"] == "/apis/images/{userId}"
    assert event["path"] == "/apis/images/u-1"
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b"}
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert event["pathParameters"] == {"userId": "u-1"}
    context = event["requestContext"]
    assert context["path"] == "/prod/apis/images/u-1"
    assert context["identity"] == {"sourceIp": "10.0.0.9", "userAgent": "ua/1"}
    assert context["authorizer"]["claims"]["sub"] == "u-1"
    assert context["authorizer"]["claims"]["email_verified"] == "true"
    assert context["authorizer"]["claims"]["exp"] == "Tue Nov 14 22:13:20 UTC 2023"
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_no_query_and_no_headers_are_null_like_api_gateway():
    event = to_proxy_event("GET", "/agree")
    assert event["queryStringParameters"] is None
    assert event["multiValueHeaders"] is None
    assert event["requestContext"]["authorizer"] is None


def test_binary_bodies_travel_base64_encoded():
    event = to_proxy_event("POST", "/x", body=b"\xff\xd8\xff")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xd8\xff"
    assert to_proxy_event("POST", "/x", body=b'{"a": 1}')["body"] == '{"a": 1}'


def test_claims_are_strings():
    claims = authorizer_claims({"cognito:groups": ["a", "b"], "n": 3, "s": "x"})
    assert claims == {"cognito:groups": "[a b]", "n": "3", "s": "x"}


def test_verifier_returns_claims_of_a_good_token(pool, verifier):
    claims = verifier.verify(pool.mint("u-1", email="e@x.org"))
    assert (claims["sub"], claims["token_use"], claims["email"]) == ("u-1", "id", "e@x.org")


def test_verifier_can_be_limited_to_id_tokens(pool):
    only_id = CognitoTokenVerifier(pool.jwks, ISSUER, CLIENT_ID, token_uses=("id",))
    with pytest.raises(Unauthorized, match="token_use"):
        only_id.verify(pool.mint("u-1", "access"))


def test_verifier_uses_its_clock(pool):
    later = CognitoTokenVerifier(pool.jwks, ISSUER, CLIENT_ID, clock=lambda: 4e9)
    with pytest.raises(Unauthorized, match="expired"):
        later.verify(pool.mint("u-1"))


def _gateway(verifier, handler):
    return ApiGateway([Route("GET", "/things/{id}", handler)], verifier)


def test_multi_value_and_base64_responses_are_mapped(pool, verifier):
    def handler(event, context):
        return {
            "statusCode": 200,
            "headers": {"X-One": "1"},
            "multiValueHeaders": {"Set-Thing": ["a", "b"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }

    status, headers, body = _gateway(verifier, handler).handle(
        "GET", "/things/7", {"Authorization": pool.mint("u")}
    )
    assert (status, body) == (200, b"\x00\x01")
    assert headers["X-One"] == "1" and headers["Set-Thing"] == "a,b"


@pytest.mark.parametrize("result", [None, {"body": "x"}, {"statusCode": "200"}])
def test_a_malformed_response_is_a_502(pool, verifier, result):
    status, _, body = _gateway(verifier, lambda e, c: result).handle(
        "GET", "/things/7", {"Authorization": pool.mint("u")}
    )
    assert status == 502
    assert json.loads(body)["error"]["code"] == "BAD_GATEWAY"


def test_a_crashing_function_is_a_502(pool, verifier):
    def handler(event, context):
        raise RuntimeError("boom")

    assert (
        _gateway(verifier, handler).handle("GET", "/things/7", {"Authorization": pool.mint("u")})[0]
        == 502
    )


def test_path_parameters_match_one_segment_only(pool, verifier):
    seen = []
    gateway = _gateway(verifier, lambda e, c: seen.append(e) or {"statusCode": 204})
    token = {"Authorization": pool.mint("u")}
    assert gateway.handle("GET", "/things/a%20b?x=1", token)[0] == 204
    assert seen[0]["pathParameters"] == {"id": "a b"}
    assert seen[0]["path"] == "/things/a%20b"
    assert seen[0]["queryStringParameters"] == {"x": "1"}
    assert gateway.handle("GET", "/things/a/b", token)[0] == 403
    assert gateway.handle("GET", "/things/", token)[0] == 403
