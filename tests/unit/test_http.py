import base64
import json
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from style_backend import http
from style_backend.validation import Invalid, validate

SCHEMA = {
    "type": "object",
    "required": ["n"],
    "additionalProperties": False,
    "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 3}},
}


def _event(body, content_type="application/json", b64=False, claims=None, path=None):
    return {
        "headers": {"content-type": content_type} if content_type else None,
        "body": body,
        "isBase64Encoded": b64,
        "requestContext": {"authorizer": {"claims": claims}} if claims else {},
        "pathParameters": path,
    }


def test_every_response_is_json_with_cors_and_no_caching():
    reply = http.respond(201, {"a": 1})
    assert reply["statusCode"] == 201
    assert json.loads(reply["body"]) == {"a": 1}
    assert reply["headers"]["Access-Control-Allow-Origin"] == "*"
    assert reply["headers"]["Content-Type"] == "application/json"
    assert reply["headers"]["Cache-Control"] == "no-store"


def test_dynamodb_numbers_serialize_as_json_numbers():
    assert json.loads(http.respond(200, {"i": Decimal(3), "f": Decimal("1.5")})["body"]) == {
        "i": 3,
        "f": 1.5,
    }


def test_json_body_accepts_base64_and_charset():
    raw = base64.b64encode(b'{"n": 2}').decode()
    event = _event(raw, "Application/JSON; charset=utf-8", b64=True)
    assert http.json_body(event, SCHEMA) == {"n": 2}


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (_event('{"n": 2}', content_type=None), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (_event('{"n": 2}', "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (_event("@@@", b64=True), 400, "INVALID_JSON"),
        (_event(base64.b64encode(b"\xff\xfe").decode(), b64=True), 400, "INVALID_JSON"),
        (_event(None), 400, "INVALID_JSON"),
        (_event('{"n": true}'), 400, "VALIDATION_ERROR"),
        (_event('{"n": 4}'), 400, "VALIDATION_ERROR"),
        (_event('{"n": 1, "m": 1}'), 400, "VALIDATION_ERROR"),
        (_event('{"n": 1, "pad": "' + "x" * http.MAX_BODY_BYTES + '"}'), 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_json_body_refusals(event, status, code):
    with pytest.raises(http.ApiError) as caught:
        http.json_body(event, SCHEMA)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_query_params_convert_fill_defaults_and_validate():
    schema = {
        "type": "object",
        "properties": {"limit": {"type": "integer", "default": 20, "maximum": 50}},
    }
    assert http.query_params({"queryStringParameters": None}, schema) == {"limit": 20}
    assert http.query_params({"queryStringParameters": {"limit": "7"}}, schema) == {"limit": 7}
    with pytest.raises(http.ApiError, match="limit: must be at most 50"):
        http.query_params({"queryStringParameters": {"limit": "51"}}, schema)


def test_caller_and_owner_checks():
    with pytest.raises(http.ApiError) as missing:
        http.caller_id(_event("{}"))
    assert missing.value.status == 401
    event = _event("{}", claims={"sub": "u-1"}, path={"userId": "u-2"})
    assert http.caller_id(event) == "u-1"
    with pytest.raises(http.ApiError) as other:
        http.own_user_id(event)
    assert other.value.status == 403
    assert http.own_user_id(_event("{}", claims={"sub": "u-2"}, path={"userId": "u-2"})) == "u-2"


def _throttled(*_):
    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")


def _denied(*_):
    raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Query")


def _bug(*_):
    raise KeyError("oops")


@pytest.mark.parametrize(
    ("func", "status", "code"),
    [(_throttled, 429, "THROTTLED"), (_denied, 500, "INTERNAL"), (_bug, 500, "INTERNAL")],
)
def test_api_handler_maps_failures_to_error_bodies(func, status, code):
    reply = http.api_handler(func)({}, None)
    assert reply["statusCode"] == status
    error = json.loads(reply["body"])["error"]
    assert error["code"] == code
    assert error["message"]
    assert "oops" not in reply["body"]  # internals never leak
    if status == 429:
        assert reply["headers"]["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("value", "schema", "path"),
    [
        ({"a": [1, "x"]}, {"properties": {"a": {"items": {"type": "integer"}}}}, "/a/1"),
        ({"a": {}}, {"properties": {"a": {"required": ["b"]}}}, "/a/b"),
        ("abc", {"maxLength": 2}, ""),
    ],
)
def test_validator_reports_where(value, schema, path):
    with pytest.raises(Invalid) as caught:
        validate(value, schema)
    assert caught.value.path == path


def test_enum_can_carry_its_own_error():
    schema = {"type": "string", "enum": ["a"], "x-error": {"status": 415, "code": "NOPE"}}
    with pytest.raises(Invalid) as caught:
        validate("b", schema)
    assert (caught.value.status, caught.value.code) == (415, "NOPE")
    with pytest.raises(Invalid) as wrong_type:
        validate(1, schema)
    assert wrong_type.value.status == 400


@pytest.mark.parametrize(
    ("allowed", "origin", "expected", "vary"),
    [
        (None, "https://evil.example", "*", False),  # default: any origin (bearer tokens)
        ("*", None, "*", False),
        (
            "https://app.example,https://admin.example",
            "https://admin.example",
            "https://admin.example",
            True,
        ),
        ("https://app.example", "https://evil.example", None, True),
        ("https://app.example", None, None, True),
    ],
)
def test_cors_origin_follows_configuration(monkeypatch, allowed, origin, expected, vary):
    if allowed is None:
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", allowed)
    event = {"headers": {"Origin": origin} if origin else {}}
    reply = http.api_handler(lambda e, c: http.respond(200, {}))(event, None)
    assert reply["headers"].get("Access-Control-Allow-Origin") == expected
    assert ("Vary" in reply["headers"]) == vary
    failed = http.api_handler(_bug)(event, None)  # errors carry the same CORS answer
    assert failed["headers"].get("Access-Control-Allow-Origin") == expected
