"""The album routes of the REST API, on Powertools' resolver (one Router per concern).

Thin: each route checks nothing but the request's shape (pydantic) and calls faceflow; domain
errors become `{"error": {"code", "message"}}` with CORS headers, as every route of the API.
Imports: aws_lambda_powertools (event_handler), pydantic, faceflow, style_backend.aws (boto3).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from album_models import (
    AlbumCreated,
    AlbumDeleted,
    AlbumPage,
    AlbumStatus,
    CompleteUpload,
    CreateAlbum,
    PhotoPage,
    UploadCompleted,
    UploadProgress,
    UploadRequest,
    UploadTicket,
)
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from faceflow import albums, uploads
from faceflow.albums import AlbumError

ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Token = Annotated[str | None, Query(max_length=2048)]
JSON = "application/json"
# Presigned URLs must not be cached by intermediaries (as every route of the API).
NO_STORE = {"Cache-Control": "no-store"}

album_routes = APIGatewayRouter()
upload_routes = APIGatewayRouter()


def caller() -> str:
    """The Cognito sub the authorizer verified; without one, refuse (never trust the request)."""
    claims = (
        (album_routes.current_event.request_context.authorizer.claims or {})
        if (album_routes.current_event.request_context.authorizer)
        else {}
    )
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthorized()
    return sub


class Unauthorized(AlbumError):
    status = 401
    code = "UNAUTHORIZED"

    def __init__(self):
        super().__init__("A valid sign-in token is required.")


def reply(status: int, model: Any) -> Response:
    return Response(status, content_type=JSON, body=model, headers=NO_STORE)


@album_routes.post("/albums")
def create_album(body: CreateAlbum) -> Response[AlbumCreated]:
    album = albums.create_album(caller(), body.name)
    return reply(
        201, AlbumCreated(albumId=album.album_id, name=album.name, createdAt=album.created_at)
    )


@album_routes.get("/albums")
def list_albums(limit: Limit = 50, nextToken: Token = None) -> Response[AlbumPage]:
    items, token = albums.list_albums(caller(), limit, nextToken)
    return reply(200, AlbumPage(items=[a.summary() for a in items], nextToken=token))


@album_routes.get("/albums/<albumId>/photos")
def list_photos(albumId: ID, limit: Limit = 100, nextToken: Token = None) -> Response[PhotoPage]:
    items, token = albums.list_photos(caller(), albumId, limit, nextToken)
    return reply(200, PhotoPage(items=items, nextToken=token))


@album_routes.get("/albums/<albumId>/status")
def album_status(albumId: ID) -> Response[AlbumStatus]:
    return reply(200, AlbumStatus(**albums.album_status(caller(), albumId)))


@album_routes.delete("/albums/<albumId>")
def delete_album(albumId: ID) -> Response[AlbumDeleted]:
    albums.delete_album(caller(), albumId)
    return reply(202, AlbumDeleted(albumId=albumId))


@upload_routes.post("/albums/<albumId>/uploadUrl")
def upload_url(albumId: ID, body: UploadRequest) -> Response[UploadTicket]:
    status, ticket = uploads.request_upload(
        caller(),
        albumId,
        file_name=body.fileName,
        content_type=body.contentType,
        size=body.size,
        sha256=body.sha256,
    )
    return reply(status, UploadTicket(**ticket))


@upload_routes.get("/albums/<albumId>/photos/<photoId>/upload")
def resume_upload(albumId: ID, photoId: ID) -> Response[UploadProgress]:
    return reply(200, UploadProgress(**uploads.resume_upload(caller(), albumId, photoId)))


@upload_routes.post("/albums/<albumId>/photos/<photoId>/complete")
def complete_upload(albumId: ID, photoId: ID, body: CompleteUpload) -> Response[UploadCompleted]:
    parts = [p.model_dump() for p in body.parts]
    return reply(200, UploadCompleted(**uploads.complete_upload(caller(), albumId, photoId, parts)))


CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600)
app = APIGatewayRestResolver(enable_validation=True, cors=CORS)
app.include_router(album_routes)
app.include_router(upload_routes)


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(status, content_type=JSON, body=body, headers=NO_STORE)


@app.exception_handler(AlbumError)
def _domain_error(err: AlbumError) -> Response:
    return _error(err.status, err.code, err.message)


@app.exception_handler(RequestValidationError)
def _invalid_request(err: RequestValidationError) -> Response:
    first = err.errors()[0] if err.errors() else {}
    if first.get("loc", ("",))[0] == "response":  # our answer broke our contract: our bug
        return _error(500, "INTERNAL", "Something went wrong.")
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return _error(400, "VALIDATION_ERROR", f"{where}: {first.get('msg', 'invalid request')}")


def handler(event: dict, context: Any) -> dict:
    # Before validation: a route deployed without the authorizer answers 401, whatever it sent.
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        headers = {"Access-Control-Allow-Origin": "*", **NO_STORE, "Content-Type": JSON}
        err = Unauthorized()
        body = json.dumps({"error": {"code": err.code, "message": err.message}})
        return {"statusCode": 401, "headers": headers, "body": body, "isBase64Encoded": False}
    return app.resolve(event, context)
