"""The REST API's edge, both products': the one place that speaks HTTP.

Every API function is an `APIGatewayRestResolver` made by `resolver(*routers)` and exposed by
`entry_point(app)`. Here, and only here:

- request bodies must be `application/json` (415), at most MAX_BODY_BYTES (413), valid JSON (400
  INVALID_JSON, also for nesting too deep or a number too long to parse);
- pydantic validation errors become 400 VALIDATION_ERROR naming the field path (`resourceIds/0:
  must match …`), an unsupported upload media type 415, a malformed `nextToken` 400
  INVALID_TOKEN like any other token no listing gave;
- domain errors (`common.errors.DomainError`, each product's subclasses) get their status from
  STATUS, the one table from error codes to HTTP statuses (Retry-After where they carry one);
- throttling that outlived botocore's retries is 429 with Retry-After, anything else a logged 500
  that tells the client nothing more;
- every response is JSON, `Cache-Control: no-store` (presigned URLs must not be cached) and
  carries the CORS answer for the request's Origin.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, Field

from common import aws, config, errors
from common.observability import lambda_entry, logger

# Bearer tokens travel in the Authorization header, never in cookies: "*" is safe, and the
# default. A deployment may list its web origins (CORS_ALLOWED_ORIGINS) like its preflight does.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type",
    "Access-Control-Allow-Methods": "GET,POST,DELETE,OPTIONS",
    "Access-Control-Max-Age": "600",
}
MAX_BODY_BYTES = 16 * 1024  # our request bodies are a few hundred bytes
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})

STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 400,
    "INVALID_TOKEN": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "CONSENT_REQUIRED": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "NOTHING_TO_UNDO": 409,
    "TERMS_VERSION_MISMATCH": 409,  # agreeing to terms that are not the current ones
    # A schema-valid id the catalog does not hold (or no longer offers): the request is well
    # formed but conflicts with the catalog's state, so not a 400 (the document calls it valid).
    "UNKNOWN_STYLE": 409,
    # The request is valid; the album's state has nothing (or too much) for it: not a 400.
    "NO_PHOTOS": 409,
    "FILE_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
}
# Statuses every route can answer besides its own: authorizer, throttling, a bug.
COMMON_ERRORS = (401, 429, 500)
REASONS = {
    400: "Invalid request (see error.message)",
    401: "Missing, expired or invalid token",
    403: "Not your resource, or consent missing",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Internal error",
}
# Every 429 says when to come back: throttling (edge and API Gateway's THROTTLED response), and
# a domain's limit (a refusal's retry_after, e.g. the share rate limit's window).
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # pydantic error type answered with 415
NEXT_TOKEN = ("query", "nextToken")  # every listing's page token: refused as INVALID_TOKEN


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


NextToken = Annotated[
    str, Field(min_length=1, max_length=2048, description="From the previous page.")
]


class Refused(Exception):
    """A request the edge refuses before any route runs (body not JSON, too large…)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ---------------------------------------------------------------- responses


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message}},
        headers=headers,
    )


def documented(
    success: int, *errors: int, links: dict[str, Any] | None = None
) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` of a route: its success status (the return model's schema, filled in
    by Powertools; `links`: OpenAPI links from it to the operations its answer feeds), its own
    error statuses and the common ones, all in the error shape."""
    responses: dict[int, dict[str, Any]] = {
        success: {"description": "OK", **({"links": links} if links else {})}
    }
    for status in sorted({*errors, *COMMON_ERRORS}):
        responses[status] = {
            "description": REASONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    responses[429]["headers"] = {"Retry-After": RETRY_AFTER}
    return responses


def link(method: str, path: str, **values: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`, its parameters (or, for `requestBody`,
    the body) taken from this answer (`$response.body#/field`)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    target: dict[str, Any] = {"operationRef": f"#/paths/{pointer}/{method.lower()}"}
    body = values.pop("requestBody", None)
    if values:
        target["parameters"] = values
    if body is not None:
        target["requestBody"] = body
    return target


# ---------------------------------------------------------------- validation errors


def _where(loc: Iterable[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        source, parts = parts[0], parts[1:]
        return "/".join(parts) if parts else source
    return "/".join(parts) or "body"


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: "is required",
    "extra_forbidden": lambda c: "is not an allowed field",
    "string_type": lambda c: "must be a string",
    "int_type": lambda c: "must be an integer",
    "int_parsing": lambda c: "must be an integer",
    "int_from_float": lambda c: "must be an integer",
    "bool_type": lambda c: "must be a boolean",
    "list_type": lambda c: "must be an array",
    "dict_type": lambda c: "must be an object",
    "model_type": lambda c: "must be an object",
    "model_attributes_type": lambda c: "must be an object",
    "string_too_short": lambda c: f"must be at least {c.get('min_length')} characters long",
    "string_too_long": lambda c: f"must be at most {c.get('max_length')} characters long",
    "too_short": lambda c: f"must hold at least {c.get('min_length')} item(s)",
    "too_long": lambda c: f"must hold at most {c.get('max_length')} items",
    "string_pattern_mismatch": lambda c: f"must match {c.get('pattern')}",
    "greater_than_equal": lambda c: f"must be at least {c.get('ge')}",
    "less_than_equal": lambda c: f"must be at most {c.get('le')}",
}


def describe(err: dict[str, Any]) -> str:
    """One pydantic error as `field/path: what is wrong`."""
    message = _MESSAGES.get(err.get("type", ""))
    text = message(err.get("ctx") or {}) if message else str(err.get("msg") or "is not valid")
    return f"{_where(err.get('loc') or ())}: {text}"


def validation_error(errors: list[dict[str, Any]]) -> Response:
    if not errors:
        return error(400, "VALIDATION_ERROR", "The request is not valid.")
    if errors[0].get("type") == "json_invalid":
        return error(400, "INVALID_JSON", "The body is not valid JSON.")
    status, code = 400, "VALIDATION_ERROR"
    if errors[0].get("type") == UNSUPPORTED_MEDIA_TYPE:
        status, code = 415, "UNSUPPORTED_MEDIA_TYPE"
    elif all(tuple(e.get("loc") or ())[:2] == NEXT_TOKEN for e in errors):
        code = "INVALID_TOKEN"  # as for a token no listing gave (common.pagination)
    return error(status, code, "; ".join(describe(e) for e in errors[:5]))


# ---------------------------------------------------------------- bodies


def parse_json(text: str | None) -> Any:
    """json.loads for request bodies: too deep or too long a number is invalid JSON (400), never
    a crash (RecursionError, the int-digits limit's ValueError)."""
    try:
        return json.loads(text or "")
    except (RecursionError, ValueError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:120]
        raise Refused(400, "INVALID_JSON", f"The body is not valid JSON: {reason}") from None


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def refuse_body(event: dict[str, Any], bodyless: frozenset[str] = frozenset()) -> None:
    """Refused unless a request body is JSON within MAX_BODY_BYTES (checked before routing).
    `bodyless`: resources whose POST is an action without a body (`…/edits/undo`): none given
    is fine there, anything given is checked like any other body."""
    if str(event.get("httpMethod", "")).upper() not in METHODS_WITH_BODY:
        return
    if event.get("resource") in bodyless and not event.get("body"):
        return
    media_type = (_header(event, "content-type") or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Refused(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
    raw = event.get("body") or ""
    try:
        data = (
            base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
        )
        data.decode("utf-8")
    except (binascii.Error, ValueError):
        raise Refused(400, "INVALID_JSON", "The body is not valid JSON (nor UTF-8).") from None
    if len(data) > MAX_BODY_BYTES:
        raise Refused(413, "PAYLOAD_TOO_LARGE", f"The body exceeds {MAX_BODY_BYTES} bytes.")
    if not data.strip():
        raise Refused(400, "INVALID_JSON", "The body is not valid JSON: it is empty.")
    # Media types are case-insensitive; Powertools compares them as written.
    for key in event.get("headers") or {}:
        if key.lower() == "content-type":
            event["headers"][key] = "application/json"


# ---------------------------------------------------------------- identity


def verified_sub(event: dict[str, Any]) -> str:
    """The Cognito `sub` the authorizer verified. Missing claims mean the route was deployed
    without the authorizer: refuse rather than trust anything else in the request."""
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise errors.NotSignedIn("A valid sign-in token is required.")
    return sub


def caller_id(router: Router) -> str:
    """The caller's `sub` (every route is authenticated: `entry_point` checked it already)."""
    return verified_sub(router.current_event.raw_event)


def own_user_id(router: Router, path_user: str) -> str:
    """The caller's `sub`, after checking the `{userId}` path parameter names the caller."""
    sub = caller_id(router)
    if path_user != sub:
        raise errors.NotYours("You can only access your own images.")
    return sub


def request_source(router: Router) -> tuple[str, str]:
    """(source IP, user agent) as API Gateway saw them: evidence kept with a consent record."""
    event = router.current_event
    identity = (event.get("requestContext") or {}).get("identity") or {}
    user_agent = identity.get("userAgent") or _header(event.raw_event, "user-agent") or ""
    return identity.get("sourceIp") or "", user_agent


# ---------------------------------------------------------------- resolver and entry point


class _Resolver(APIGatewayRestResolver):
    """Path parameters as API Gateway hands them to the function (`pathParameters`): decoded.
    Powertools takes them from the still percent-encoded `path`."""

    def _convert_matches_into_route_keys(self, match: Any) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def resolver(*routers: Router) -> APIGatewayRestResolver:
    """An API function's resolver: validation on, errors in the API's shape."""
    app = _Resolver(
        enable_validation=True,
        json_body_deserializer=parse_json,
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
    )
    for router in routers:
        app.include_router(router)

    @app.exception_handler(errors.DomainError)
    def _domain(err: errors.DomainError) -> Response:
        status = STATUS.get(err.code, 400)
        logger.info("request refused", extra={"status": status, "code": err.code})
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after else None
        return error(status, err.code, err.message, headers)

    @app.exception_handler(Refused)
    def _refused(err: Refused) -> Response:
        return error(err.status, err.code, err.message)

    @app.exception_handler(RequestValidationError)
    def _invalid(err: RequestValidationError) -> Response:
        return validation_error(list(err.errors()))

    @app.exception_handler(ResponseValidationError)
    def _bad_response(err: ResponseValidationError) -> Response:
        logger.error("response does not match its model", extra={"errors": str(err.errors())})
        return error(500, "INTERNAL", "Something went wrong.")

    @app.exception_handler(NotFoundError)
    def _no_route(err: NotFoundError) -> Response:
        return error(404, "NOT_FOUND", "No such route.")

    @app.exception_handler(Exception)
    def _failed(err: Exception) -> Response:
        if aws.is_throttling(err):
            logger.warning("throttled", extra={"awsError": aws.error_code(err)})
            return error(429, "THROTTLED", "Too many requests; retry later.", {"Retry-After": "1"})
        logger.exception("unhandled error")
        return error(500, "INTERNAL", "Something went wrong.")

    return app


def allowed_origin(request_origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for a request from `request_origin`: "*" when any
    origin is allowed, the origin itself when listed, else None (the browser will refuse)."""
    allowed = [
        o.strip() for o in config.get(config.CORS_ALLOWED_ORIGINS, "*").split(",") if o.strip()
    ]
    if "*" in allowed:
        return "*"
    return request_origin if request_origin in allowed else None


def finish(response: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """JSON, no-store and the CORS answer for this request's Origin, on every response."""
    headers = {
        **CORS_HEADERS,
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
    }
    origin = allowed_origin(_header(event, "origin"))
    if origin != "*":
        headers.pop("Access-Control-Allow-Origin")
        if origin:
            headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
    multi = response.get("multiValueHeaders") or {}
    for name, values in list(multi.items()):
        if name.lower() not in {h.lower() for h in headers}:
            response.setdefault("headers", {})[name] = ",".join(map(str, values))
    response["multiValueHeaders"] = {}
    response["headers"] = {
        **{
            k: v
            for k, v in (response.get("headers") or {}).items()
            if k.lower() not in {h.lower() for h in headers}
        },
        **headers,
    }
    return response


def entry_point(
    app: APIGatewayRestResolver, *, bodyless: Iterable[str] = ()
) -> Callable[[dict, Any], dict]:
    """The Lambda handler of an API function: logger, tracer and metrics around `app`.
    `bodyless`: its POST resources that take no body (see refuse_body)."""
    without_body = frozenset(bodyless)

    @lambda_entry(correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # Who, then what: a request without identity is a 401 whatever its body.
        try:
            verified_sub(event)
            refuse_body(event, without_body)
        except errors.NotSignedIn as err:
            return finish(_plain(401, err.code, err.message), event)
        except Refused as err:
            return finish(_plain(err.status, err.code, err.message), event)
        return finish(app.resolve(event, context), event)

    return handler


def _plain(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {},
        "body": json.dumps({"error": {"code": code, "message": message}}),
        "isBase64Encoded": False,
    }
