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

# FaceFlow albums (issue 11): one Powertools function; the pydantic models of
# lambda/albums/album_models.py validate and document the fields, these entries only place the
# routes (API stack, local API Gateway) until the route table is derived from the resolvers.
ALBUM_FUNCTION = "AlbumsApiFunction"
ALBUM_HANDLER = "album_api.handler"
_ALBUM_ID = {"type": "string", "pattern": "^[0-9a-f]+$", "maxLength": 64}
_OBJECT = {"type": "object", "description": "See lambda/albums/album_models.py"}
ALBUM_ROUTES: tuple[RouteSpec, ...] = tuple(
    RouteSpec(
        method,
        path,
        ALBUM_HANDLER,
        ALBUM_FUNCTION,
        summary,
        status,
        _OBJECT,
        body=_OBJECT if with_body else None,
        path_params={p: _ALBUM_ID for p in ("albumId", "photoId") if "{" + p + "}" in path},
        errors=errors,
    )
    for method, path, summary, status, with_body, errors in (
        ("POST", "/albums", "Create an album", 201, True, (400, 415)),
        ("GET", "/albums", "The caller's albums, newest first", 200, False, (400,)),
        ("DELETE", "/albums/{albumId}", "Delete an album and everything in it", 202, False, (404,)),
        (
            "POST",
            "/albums/{albumId}/uploadUrl",
            "Upload one photo (PUT or multipart)",
            201,
            True,
            (400, 404, 413, 415),
        ),
        (
            "GET",
            "/albums/{albumId}/photos/{photoId}/upload",
            "Resume a multipart upload",
            200,
            False,
            (404, 409),
        ),
        (
            "POST",
            "/albums/{albumId}/photos/{photoId}/complete",
            "Complete a multipart upload",
            200,
            True,
            (400, 404, 409),
        ),
        ("GET", "/albums/{albumId}/photos", "The album's photos", 200, False, (400, 404)),
        ("GET", "/albums/{albumId}/status", "Processing status and jobs", 200, False, (404,)),
    )
)

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
    *ALBUM_ROUTES,
)


def by_path() -> dict[str, dict[str, RouteSpec]]:
    """path → method → route."""
    table: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        table.setdefault(route.path, {})[route.method] = route
    return table
