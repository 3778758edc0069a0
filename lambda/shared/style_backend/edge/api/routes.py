"""The API's route table and OpenAPI document, derived from the API functions' resolvers.

The API functions are modules of lambda/apis, or of another handler folder named
`<folder>/<module>` (lambda/albums/album_api.py), one Lambda function each (`<module>.handler`);
each declares its routes on a Powertools Router. The API stack deploys `routes()`, the local API
Gateway serves them, and `document()` is docs/openapi.json:

    .venv/bin/python -m style_backend.edge.api.routes > docs/openapi.json

Not shipped to Lambda: nothing here runs in a function (the layer holds it, unused).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

# Construct id of each API function → its module in lambda/apis, or `<folder>/<module>` for a
# module of another folder of lambda/ (the function's code asset).
API_FUNCTIONS = {
    "AgreementFunction": "agreement",
    "StylesFunction": "styles",
    "UploadFunction": "upload",
    "ImagesFunction": "images",
    "ErasureFunction": "erasure",
    "AlbumsApiFunction": "albums/album_api",  # FaceFlow albums (stacks/albums)
    "AlbumPeopleApiFunction": "albums/people_api",  # FaceFlow people (the FaceFlow image)
    "SharesApiFunction": "sharing/share_api",  # FaceFlow sharing (stacks/albums/sharing.py)
}
LAMBDA_DIR = Path(__file__).resolve().parents[4]
DEFAULT_GROUP = "apis"
TITLE = "Style Backend API"
VERSION = "1.0.0"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, DELETE
    path: str  # API Gateway resource path, e.g. /apis/images/{userId}
    function: str  # construct id of the Lambda function
    handler: str  # <module>.handler on the function's sys.path
    has_body: bool
    group: str = DEFAULT_GROUP  # the function's folder under lambda/ (its code asset)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def location(spec: str) -> tuple[str, str]:
    """(folder under lambda/, module) of an API_FUNCTIONS entry."""
    group, _, module = spec.rpartition("/")
    return group or DEFAULT_GROUP, module


def _module(spec: str) -> ModuleType:
    group, module = location(spec)
    folder = str(LAMBDA_DIR / group)
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module(module)


def _schema(app: Any) -> dict[str, Any]:
    return json.loads(app.get_openapi_json_schema())


@cache
def routes() -> tuple[Route, ...]:
    """Every route of every API function, as its resolver declares it."""
    table = []
    for function, spec in API_FUNCTIONS.items():
        group, module = location(spec)
        for path, operations in _schema(_module(spec).app)["paths"].items():
            for method, operation in operations.items():
                if method in _HTTP_METHODS:
                    table.append(
                        Route(
                            method.upper(),
                            path,
                            function,
                            f"{module}.handler",
                            "requestBody" in operation,
                            group,
                        )
                    )
    return tuple(table)


def operation_id(method: str, path: str) -> str:
    """getApisImagesUserId: method, then the path's words (stable names for generated clients)."""
    words = [w.strip("{}") for w in path.split("/") if w]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


def document() -> dict[str, Any]:
    """docs/openapi.json: Powertools' OpenAPI of all the API's routers in one resolver, with the
    API's error answers in place of Powertools' defaults (we answer 400, never 422)."""
    from common import api as edge

    app = edge.resolver(*(_module(module).router for module in API_FUNCTIONS.values()))
    schema = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            # The published text (docs/openapi.json is the API contract): it keeps naming the
            # module by the path it was published under.
            description=(
                "Generated from the API functions' Powertools routers and pydantic models "
                "(style_backend.api.routes); do not edit by hand. Every route needs a Cognito "
                "token (Authorization header); errors are {error: {code, message}}."
            ),
            security_schemes={
                "cognito": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "A Cognito user pool ID token (or access token), as is.",
                }
            },
            security=[{"cognito": []}],
        )
    )
    by_route = {(r.method, r.path): r for r in routes()}
    _constraints_as_json_schema(schema["paths"])
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            route = by_route[(method.upper(), path)]
            operation["operationId"] = operation_id(method, path)
            operation["x-handler"] = route.handler
            operation["x-function"] = route.function
            responses = operation["responses"]
            responses.pop("422", None)
            responses["500"] = {
                "description": edge.REASONS[500],
                "content": {"application/json": {"schema": error_ref}},
            }
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    return schema


_CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}


def _constraints_as_json_schema(paths: dict[str, Any]) -> None:
    """A parameter whose type has its own validator (the ASCII-digits `limit`) comes out of
    Powertools with pydantic's `ge`/`le` instead of JSON Schema's `minimum`/`maximum`."""
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                for ours, theirs in _CONSTRAINTS.items():
                    if ours in schema:
                        schema[theirs] = schema.pop(ours)


def render() -> str:
    return json.dumps(document(), indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
