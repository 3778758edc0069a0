"""The OpenAPI 3.0 document of the REST API, generated from `routes.ROUTES` and the very schemas
that validate requests. `python -m style_backend.openapi > docs/openapi.json` rewrites the
committed copy; a test fails when it is stale."""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

from style_backend.routes import COMMON_ERRORS, ROUTES, RouteSpec
from style_backend.validation import Schema

_REASONS = {
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
ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _public(schema: Schema) -> Schema:
    """A copy: the document must never alias (and let a caller mutate) the live schemas."""
    return copy.deepcopy(schema)


def _operation(route: RouteSpec) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _public(schema)}
        for name, schema in route.path_params.items()
    ]
    for name, schema in (route.query or {}).get("properties", {}).items():
        parameters.append(
            {"name": name, "in": "query", "required": False, "schema": _public(schema)}
        )
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "security": [{"cognito": []}],
        "x-handler": route.handler,
        "x-function": route.function,
        "responses": {
            str(route.status): {
                "description": "OK",
                "content": {"application/json": {"schema": _public(route.response)}},
            },
            **{
                str(status): {"$ref": f"#/components/responses/E{status}"}
                for status in sorted({*route.errors, *COMMON_ERRORS})
            },
        },
    }
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _public(route.body)}},
        }
    return operation


def build() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Style Backend API",
            "version": "1.0.0",
            "description": (
                "Generated from style_backend.routes; do not edit by hand. Every route needs a "
                "Cognito token (Authorization header); errors are {error: {code, message}}."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "cognito": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "A Cognito user pool ID token (or access token), as is.",
                }
            },
            "schemas": {"Error": ERROR_BODY},
            "responses": {
                f"E{status}": {
                    "description": reason,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for status, reason in _REASONS.items()
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
