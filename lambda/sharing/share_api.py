"""The share routes of the REST API (FaceFlow sharing, issue 13), on the API's edge. Runs in the
FaceFlow image (lambda/albums/Dockerfile): choosing a share's photos asks the people backend.

Thin, like every API function: one Powertools `router`, `app = edge.resolver(router)`, `handler =
edge.entry_point(app)`; each route checks the request's shape (share_models) and calls
faceflow.edge.shares. Album domain errors (faceflow.domain.errors.AlbumError) carry a code
whose status common.api.STATUS gives; another user's album or share is 404 with the body of one
that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from share_models import (
    CreateShare,
    PreviewShare,
    Share,
    ShareCreated,
    SharePage,
    SharePreview,
)

from common import api as edge
from faceflow.edge import shares

ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
JSON = "application/json"

router = Router()


def caller() -> str:
    return edge.caller_id(router)


def caller_email() -> str:
    """Who shares, as the email says: the verified token's email claim (ID tokens carry it)."""
    claims = router.current_event.raw_event["requestContext"]["authorizer"]["claims"]
    email = claims.get("email")
    return email if isinstance(email, str) else ""


def reply(status: int, model: Any) -> Response:
    return Response(status, content_type=JSON, body=model)


@router.post(
    "/albums/<albumId>/share",
    summary="Share the photos of chosen people",
    responses=edge.documented(201, 400, 404, 409, 413, 415),
)
def create_share(albumId: ID, body: CreateShare) -> Response[ShareCreated]:
    share = shares.create_share(
        caller(),
        albumId,
        recipients=body.recipients,
        cluster_ids=body.filters.clusterIds,
        expires_in_days=body.expiresInDays,
        shared_by=caller_email(),
        keep_location=body.keepLocation,
    )
    return reply(201, ShareCreated(**share))


@router.post(
    "/albums/<albumId>/share/preview",
    summary="How many photos a share of these people holds",
    responses=edge.documented(200, 400, 404, 413, 415),
)
def preview_share(albumId: ID, body: PreviewShare) -> Response[SharePreview]:
    count = shares.preview(caller(), albumId, body.filters.clusterIds)
    return reply(200, SharePreview(photoCount=count))


@router.get(
    "/albums/<albumId>/shares",
    summary="The album's shares, newest first",
    responses=edge.documented(200, 400, 404),
)
def list_shares(albumId: ID) -> Response[SharePage]:
    return reply(200, SharePage(items=shares.list_shares(caller(), albumId)))


@router.get(
    "/shares/<shareId>",
    summary="A share, with signed URLs while it is READY",
    responses=edge.documented(200, 400, 404),
)
def get_share(shareId: ID) -> Response[Share]:
    return reply(200, Share(**shares.get_share(caller(), shareId)))


@router.delete(
    "/shares/<shareId>",
    summary="Revoke a share: its archive and photos deleted, no URL handed out again",
    responses=edge.documented(200, 400, 404),
)
def revoke_share(shareId: ID) -> Response[Share]:
    return reply(200, Share(**shares.revoke_share(caller(), shareId)))


app = edge.resolver(router)


handler = edge.entry_point(app)
