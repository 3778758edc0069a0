"""The REST API's routes: one table read by the OpenAPI generator, the local API Gateway and
tests. Handler strings and function ids are the ones in docs/architecture.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from style_backend import agreements, erasure, results, styles, uploads
from style_backend.validation import Schema

# Error statuses every authenticated route can answer (authorizer, throttling, bugs).
COMMON_ERRORS = (401, 429, 500)


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # API Gateway resource path, e.g. /apis/images/{userId}
    handler: str  # <module>.<function> on the Lambda's sys.path
    function: str  # construct id of the Lambda function
    summary: str
    status: int  # success status
    response: Schema
    body: Schema | None = None
    query: Schema | None = None
    path_params: dict[str, Schema] = field(default_factory=dict)
    errors: tuple[int, ...] = ()

    @property
    def operation_id(self) -> str:
        words = [w.strip("{}") for w in self.path.split("/") if w]
        return self.method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


USER_ID = {"type": "string", "minLength": 1, "maxLength": 128, "description": "Your Cognito sub."}

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec(
        "GET",
        "/agree",
        "agreement.handler",
        "AgreementFunction",
        "Whether the caller accepted the current user agreement",
        200,
        agreements.AGREEMENT_STATUS,
    ),
    RouteSpec(
        "POST",
        "/agree",
        "agreement.handler",
        "AgreementFunction",
        "Accept the current user agreement",
        201,
        agreements.AGREEMENT_RECORD,
        body=agreements.AGREE_REQUEST,
        errors=(400, 409, 413, 415),
    ),
    RouteSpec(
        "GET",
        "/apis/styles",
        "styles.handler",
        "StylesFunction",
        "Active styles (base resources) with presigned image URLs",
        200,
        styles.STYLE_LIST,
    ),
    RouteSpec(
        "POST",
        "/apis/images/upload",
        "upload.handler",
        "UploadFunction",
        "Start a styling process: returns a presigned POST for the selfie",
        201,
        uploads.UPLOAD_TICKET,
        body=uploads.UPLOAD_REQUEST,
        errors=(400, 403, 413, 415),
    ),
    RouteSpec(
        "GET",
        "/apis/images/{userId}",
        "images.handler",
        "ImagesFunction",
        "The caller's styled results, newest first, paginated",
        200,
        results.RESULT_PAGE,
        query=results.LIST_QUERY,
        path_params={"userId": USER_ID},
        errors=(400, 403),
    ),
    RouteSpec(
        "GET",
        "/apis/images/{userId}/processes/{processId}",
        "images.handler",
        "ImagesFunction",
        "Progress of one of the caller's processes",
        200,
        results.PROGRESS,
        path_params={"userId": USER_ID, "processId": results.PROCESS_ID},
        errors=(403, 404),
    ),
    RouteSpec(
        "DELETE",
        "/apis/images/{userId}",
        "erasure.handler",
        "ErasureFunction",
        "Erase every image and record of the caller (right to erasure)",
        202,
        erasure.ERASURE_SUMMARY,
        path_params={"userId": USER_ID},
        errors=(403,),
    ),
)


def by_path() -> dict[str, dict[str, RouteSpec]]:
    """path → method → route."""
    table: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        table.setdefault(route.path, {})[route.method] = route
    return table
