"""API Gateway (REST API, Lambda proxy integration, Cognito user pool authorizer), emulated.

The local runtime serves `ApiGateway.handle` behind a plain HTTP server, and the API tests call it
directly, so handlers receive the very events they get on AWS:

    route match (unknown → 403 "Missing Authentication Token", as AWS answers)
    → CORS preflight (OPTIONS, no auth)  → Cognito authorizer (401)  → proxy event → handler
    → the proxy response mapped back to (status, headers, body); a broken one is a 502.

Gateway errors use the API's error shape `{"error": {"code", "message"}}`: on AWS the API stack
configures its Gateway Responses (UNAUTHORIZED, MISSING_AUTHENTICATION_TOKEN, …) the same way.
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from common.api import CORS_HEADERS

Handler = Callable[[dict, Any], dict]
log = logging.getLogger("local.apigw")


class Unauthorized(Exception):
    """The token is missing or fails verification (the reason is logged, never sent)."""


class CognitoTokenVerifier:
    """Verifies Cognito user pool tokens as the API Gateway Cognito authorizer does: RS256
    signature by the JWKS key named in the header's `kid`, not expired, the pool's issuer, and
    the app client (`aud` for ID tokens, `client_id` for access tokens)."""

    def __init__(
        self,
        jwks: Mapping[str, Any],
        issuer: str,
        client_id: str,
        token_uses: Iterable[str] = ("id", "access"),
        clock: Callable[[], float] = time.time,
    ):
        self.keys = KeySet.import_key_set(dict(jwks))
        self.issuer = issuer
        self.client_id = client_id
        self.token_uses = frozenset(token_uses)
        self.clock = clock

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or Unauthorized."""
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256"])
        except (JoseError, ValueError) as err:
            raise Unauthorized(f"bad token: {type(err).__name__}") from err
        claims = decoded.claims
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= self.clock():
            raise Unauthorized("expired")
        if claims.get("iss") != self.issuer:
            raise Unauthorized("wrong issuer")
        use = claims.get("token_use")
        if use not in self.token_uses:
            raise Unauthorized(f"token_use {use!r} not accepted")
        audience = claims.get("aud") if use == "id" else claims.get("client_id")
        if audience != self.client_id:
            raise Unauthorized("issued for another app client")
        if not claims.get("sub"):
            raise Unauthorized("no subject")
        return claims


def authorizer_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands them to the Lambda: every value a string."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat", "auth_time") and isinstance(value, int | float):
            value = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, list):
            value = "[" + " ".join(map(str, value)) + "]"
        out[name] = value if isinstance(value, str) else json.dumps(value)
    return out


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # resource template, e.g. /apis/images/{userId}
    handler: Handler

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when `path` falls under this route's template, else None."""
        found = _template_regex(self.path).fullmatch(path)
        return found.groupdict() if found else None


@functools.cache
def _template_regex(template: str) -> re.Pattern[str]:
    # {name} matches one path segment, like an API Gateway path parameter.
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(pattern)


def load_handler(handler: str) -> Handler:
    """`module.function` imported from sys.path, as the Lambda runtime does."""
    module, _, function = handler.rpartition(".")
    return getattr(importlib.import_module(module), function)


def routes_from_specs(specs: Iterable[Any] | None = None) -> list[Route]:
    """Routes of the API functions' resolvers (`style_backend.edge.api.routes.routes()`), each
    calling its function's handler (handler modules must be importable)."""
    if specs is None:
        from style_backend.edge.api.routes import routes

        specs = routes()
    return [Route(s.method, s.path, load_handler(s.handler)) for s in specs]


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict | None, dict | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(name, []).append(value)
    return single, multi


def to_proxy_event(
    method: str,
    path: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    query: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes | str | None = None,
    claims: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str] | None = None,
    stage: str = "local",
    resource: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A REST API (payload v1.0) Lambda proxy event."""
    header_pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    query_pairs = list(query.items() if isinstance(query, Mapping) else query or [])
    single_headers, multi_headers = _multi(header_pairs)
    single_query, multi_query = _multi(query_pairs)
    is_base64 = False
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(body).decode(), True
    user_agent = next((v for k, v in header_pairs if k.lower() == "user-agent"), None)
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_params) if path_params else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "authorizer": {"claims": authorizer_claims(claims)} if claims is not None else None,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _gateway_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return status, {**CORS_HEADERS, "Content-Type": "application/json"}, body


class ApiGateway:
    def __init__(
        self, routes: Iterable[Route], verifier: CognitoTokenVerifier, stage: str = "local"
    ):
        self.routes = list(routes)
        self.verifier = verifier
        self.stage = stage

    def _resource(self, path: str) -> tuple[str, dict[str, str], dict[str, Route]] | None:
        """The resource template `path` falls in, its parameters, and its methods. Literal
        segments win over parameters (/apis/images/upload is not /apis/images/{userId})."""
        candidates: dict[str, tuple[dict[str, str], dict[str, Route]]] = {}
        for route in self.routes:
            params = route.match(path)
            if params is not None:
                candidates.setdefault(route.path, (params, {}))[1][route.method] = route
        if not candidates:
            return None
        template = min(candidates, key=lambda t: t.count("{"))
        return template, *candidates[template]

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        source_ip: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        header_pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
        found = self._resource(url.path)
        method = method.upper()
        if found is None or (method not in found[2] and method != "OPTIONS"):
            return _gateway_error(
                403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"
            )
        template, params, methods = found
        # Like REST APIs: `path` stays percent-encoded, path parameters arrive decoded.
        params = {name: unquote(value) for name, value in params.items()}
        if method == "OPTIONS":
            allow = ",".join([*sorted(methods), "OPTIONS"])
            return 204, {**CORS_HEADERS, "Access-Control-Allow-Methods": allow}, b""
        token = next((v for k, v in header_pairs if k.lower() == "authorization"), "")
        token = token.removeprefix("Bearer ").strip()
        if not token:
            return _gateway_error(401, "UNAUTHORIZED", "Unauthorized")
        try:
            claims = self.verifier.verify(token)
        except Unauthorized as err:
            log.info("401 %s %s: %s", method, url.path, err)
            return _gateway_error(401, "UNAUTHORIZED", "Unauthorized")
        event = to_proxy_event(
            method,
            url.path,
            header_pairs,
            parse_qsl(url.query, keep_blank_values=True),
            body,
            claims,
            params,
            self.stage,
            template,
            source_ip,
        )
        try:
            result = methods[method].handler(event, None)
            return _map_response(result)
        except Exception:  # a crashed function or a malformed response: AWS answers 502
            log.exception("502 %s %s: the function failed", method, url.path)
            return _gateway_error(502, "BAD_GATEWAY", "Internal server error")


def _map_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise ValueError("malformed Lambda proxy response")
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(map(str, values))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return result["statusCode"], headers, data
