"""API Gateway (REST, Lambda proxy) requests and responses: the only place they are shaped.

Every response goes through `respond`: JSON body, CORS headers, `no-store` (presigned URLs must not
be cached by intermediaries). Every error is `{"error": {"code", "message"}}`, raised as `ApiError`
anywhere below a handler and turned into a response by `api_handler`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from style_backend import config
from style_backend.config import EnvVar
from style_backend.logs import get_logger
from style_backend.validation import Invalid, Schema, validate

log = get_logger("style_backend.http")

# Bearer tokens travel in the Authorization header, never in cookies: "*" is safe, and the
# default. A deployment may list its web origins (CORS_ALLOWED_ORIGINS) like its preflight does.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type",
    "Access-Control-Allow-Methods": "GET,POST,DELETE,OPTIONS",
    "Access-Control-Max-Age": "600",
}
MAX_BODY_BYTES = 16 * 1024  # our request bodies are a few hundred bytes
# DynamoDB/S3 throttling that outlived botocore's retries: tell the client to back off.
_THROTTLING = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "TooManyRequestsException",
}


@dataclass(frozen=True)
class ApiError(Exception):
    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):  # DynamoDB numbers
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> dict:
    """A Lambda proxy response. `body=None` sends no body (204, 202 without summary…)."""
    return {
        "statusCode": status,
        "headers": {
            **CORS_HEADERS,
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
        "body": "" if body is None else json.dumps(body, default=_json_default),
        "isBase64Encoded": False,
    }


def allowed_origin(request_origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from `request_origin`: "*" when any
    origin is allowed, the origin itself when listed, else None (the browser will refuse)."""
    allowed = [
        o.strip() for o in config.get(EnvVar.CORS_ALLOWED_ORIGINS, "*").split(",") if o.strip()
    ]
    if "*" in allowed:
        return "*"
    return request_origin if request_origin in allowed else None


def with_cors(response: dict, event: dict) -> dict:
    """Fix the response's allowed origin for this request's Origin (a list can't be sent)."""
    origin = allowed_origin(header(event, "origin"))
    headers = response.setdefault("headers", {})
    if origin == "*":
        return response
    headers.pop("Access-Control-Allow-Origin", None)
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    return response


def error_response(err: ApiError, headers: dict[str, str] | None = None) -> dict:
    return respond(err.status, {"error": {"code": err.code, "message": err.message}}, headers)


def caller_id(event: dict) -> str:
    """The Cognito `sub` the authorizer verified. Missing claims mean the route was deployed
    without the authorizer: refuse rather than trust anything else in the request."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ApiError(401, "UNAUTHORIZED", "A valid sign-in token is required.")
    return sub


def own_user_id(event: dict) -> str:
    """The caller's `sub`, after checking the `{userId}` path parameter names the caller."""
    sub = caller_id(event)
    path_user = (event.get("pathParameters") or {}).get("userId")
    if path_user != sub:
        raise ApiError(403, "FORBIDDEN", "You can only access your own images.")
    return sub


def path_param(event: dict, name: str) -> str:
    value = (event.get("pathParameters") or {}).get(name)
    if not value:
        raise ApiError(400, "VALIDATION_ERROR", f"path parameter {name} is required")
    return value


def header(event: dict, name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway passes names as the client sent them)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def json_body(event: dict, schema: Schema) -> dict[str, Any]:
    """The request body, parsed and validated against `schema` (also the OpenAPI schema)."""
    media_type = (header(event, "content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ApiError(400, "INVALID_JSON", "The body is not valid base64.") from err
    else:
        data = raw.encode()
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"The body exceeds {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ApiError(400, "INVALID_JSON", f"The body is not valid JSON: {err}") from err
    _validate(body, schema)
    return body


def query_params(event: dict, schema: Schema) -> dict[str, Any]:
    """Query string values, integers converted, defaults filled in, validated by `schema`."""
    raw = event.get("queryStringParameters") or {}
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in raw and raw[name] is not None:
            value: Any = raw[name]
            if prop.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise ApiError(400, "VALIDATION_ERROR", f"{name}: must be an integer") from None
            values[name] = value
        elif "default" in prop:
            values[name] = prop["default"]
    _validate(values, schema, "query parameter ")
    return values


def _validate(value: Any, schema: Schema, what: str = "") -> None:
    try:
        validate(value, schema)
    except Invalid as err:
        where = err.path.lstrip("/") or "body"
        raise ApiError(err.status, err.code, f"{what}{where}: {err.message}") from None


def api_handler(func: Callable[[dict, Any], dict]) -> Callable[[dict, Any], dict]:
    """Turn ApiError into its response, throttling into 429, anything else into a logged 500."""

    @functools.wraps(func)
    def wrapper(event: dict, context: Any = None) -> dict:
        # API Gateway's request id: what a client reports, what an operator searches for.
        ids = {"requestId": (event.get("requestContext") or {}).get("requestId")}
        return with_cors(_respond_or_error(func, event, context, ids), event)

    return wrapper


def _respond_or_error(
    func: Callable[[dict, Any], dict], event: dict, context: Any, ids: dict
) -> dict:
    try:
        return func(event, context)
    except ApiError as err:
        log.info("request refused", extra={**ids, "status": err.status, "code": err.code})
        return error_response(err)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in _THROTTLING:
            log.warning("throttled", extra={**ids, "awsError": err.response["Error"]["Code"]})
            throttled = ApiError(429, "THROTTLED", "Too many requests; retry later.")
            return error_response(throttled, {"Retry-After": "1"})
        log.exception("AWS call failed", extra=ids)
        return error_response(ApiError(500, "INTERNAL", "Something went wrong."))
    except Exception:
        log.exception("unhandled error", extra=ids)
        return error_response(ApiError(500, "INTERNAL", "Something went wrong."))


def request_source(event: dict) -> tuple[str, str]:
    """(source IP, user agent) as API Gateway saw them: evidence kept with a consent record."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    user_agent = identity.get("userAgent") or header(event, "user-agent") or ""
    return identity.get("sourceIp") or "", user_agent
