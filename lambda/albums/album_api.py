"""The album routes of the REST API (FaceFlow albums, issue 11), on the API's edge.

Thin: each route checks nothing but the request's shape (pydantic, album_models) and calls
faceflow. Like every API function: one Powertools `router`, `app = edge.resolver(router)` (JSON
bodies, 400 VALIDATION_ERROR, CORS and no-store on every answer), `handler =
edge.entry_point(app)` (401 before anything else when the authorizer's claims are missing).
Album domain errors (faceflow.domain.errors.AlbumError) carry a code; common.api.STATUS gives its
status.
"""

from __future__ import annotations

from typing import Annotated, Any

from album_models import (
    AlbumCreated,
    AlbumDeleted,
    AlbumPage,
    AlbumStatus,
    CompleteUpload,
    CreateAlbum,
    NotDuplicate,
    PhotoPage,
    PhotoUploadRequest,
    PhotoUploadTicket,
    UploadCompleted,
    UploadProgress,
)
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from common import api as edge
from common.api import NextToken
from faceflow.edge import albums, duplicates, uploads

ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Token = Annotated[NextToken | None, Query()]  # one kind of token on every listing
JSON = "application/json"

router = Router()


def caller() -> str:
    """The Cognito sub the authorizer verified (NotSignedIn, 401, without one)."""
    return edge.caller_id(router)


def reply(status: int, model: Any) -> Response:
    return Response(status, content_type=JSON, body=model)


@router.post("/albums", summary="Create an album", responses=edge.documented(201, 400, 413, 415))
def create_album(body: CreateAlbum) -> Response[AlbumCreated]:
    album = albums.create_album(caller(), body.name, body.purgeOriginals)
    return reply(
        201,
        AlbumCreated(
            albumId=album.album_id,
            name=album.name,
            createdAt=album.created_at,
        ),
    )


@router.get(
    "/albums", summary="The caller's albums, newest first", responses=edge.documented(200, 400)
)
def list_albums(limit: Limit = 50, nextToken: Token = None) -> Response[AlbumPage]:
    items, token = albums.list_albums(caller(), limit, nextToken)
    return reply(200, AlbumPage(items=[a.summary() for a in items], nextToken=token))


@router.get(
    "/albums/<albumId>/photos",
    summary="The album's photos",
    responses=edge.documented(200, 400, 404),
)
def list_photos(albumId: ID, limit: Limit = 100, nextToken: Token = None) -> Response[PhotoPage]:
    items, token = albums.list_photos(caller(), albumId, limit, nextToken)
    return reply(200, PhotoPage(items=items, nextToken=token))


@router.get(
    "/albums/<albumId>/status",
    summary="Processing status and jobs",
    responses=edge.documented(200, 400, 404),
)
def album_status(albumId: ID) -> Response[AlbumStatus]:
    return reply(200, AlbumStatus(**albums.album_status(caller(), albumId)))


@router.delete(
    "/albums/<albumId>",
    summary="Delete an album and everything in it",
    responses=edge.documented(202, 400, 404),
)
def delete_album(albumId: ID) -> Response[AlbumDeleted]:
    albums.delete_album(caller(), albumId)
    return reply(202, AlbumDeleted(albumId=albumId))


@router.post(
    "/albums/<albumId>/uploadUrl",
    summary="Upload one photo (PUT or multipart)",
    responses={
        **edge.documented(201, 400, 404, 413, 415),
        200: {"description": "The album holds a photo with this sha256: nothing to upload"},
    },
)
def upload_url(albumId: ID, body: PhotoUploadRequest) -> Response[PhotoUploadTicket]:
    status, ticket = uploads.request_upload(
        caller(),
        albumId,
        file_name=body.fileName,
        content_type=body.contentType,
        size=body.size,
        sha256=body.sha256,
    )
    return reply(status, PhotoUploadTicket(**ticket))


@router.get(
    "/albums/<albumId>/photos/<photoId>/upload",
    summary="Resume a multipart upload",
    responses=edge.documented(200, 400, 404, 409),
)
def resume_upload(albumId: ID, photoId: ID) -> Response[UploadProgress]:
    return reply(200, UploadProgress(**uploads.resume_upload(caller(), albumId, photoId)))


@router.post(
    "/albums/<albumId>/photos/<photoId>/complete",
    summary="Complete a multipart upload",
    responses=edge.documented(200, 400, 404, 409, 413, 415),
)
def complete_upload(albumId: ID, photoId: ID, body: CompleteUpload) -> Response[UploadCompleted]:
    parts = [p.model_dump() for p in body.parts]
    return reply(200, UploadCompleted(**uploads.complete_upload(caller(), albumId, photoId, parts)))


@router.post(
    "/albums/<albumId>/photos/<photoId>/not-duplicate",
    summary="Say a duplicate is its own picture",
    description=(
        "The photo leaves DUPLICATE and is processed for faces like any other; the pair is "
        "remembered and never marked again. 409 when the photo is not a duplicate."
    ),
    responses=edge.documented(200, 400, 404, 409),
)
def not_duplicate(albumId: ID, photoId: ID) -> Response[NotDuplicate]:
    return reply(200, NotDuplicate(**duplicates.mark_not_duplicate(caller(), albumId, photoId)))


app = edge.resolver(router)


# An action without a body: an empty POST is the whole request.
handler = edge.entry_point(app, bodyless=("/albums/{albumId}/photos/{photoId}/not-duplicate",))
