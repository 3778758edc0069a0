"""The people routes of the REST API (FaceFlow people, issue 12): an album's clusters and the
user's corrections. Thin, like album_api: the request's shape (pydantic, people_models), then one
faceflow.edge.people call. Runs in the FaceFlow image (numpy, faiss for suggestions)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from people_models import (
    Cluster,
    ClusterPage,
    ClusterRef,
    EditPage,
    LabelCluster,
    MergeClusters,
    Reclustered,
    SplitCluster,
    SuggestionList,
    Undone,
)

from common import api as edge
from common.api import NextToken
from faceflow.edge import people

AlbumId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
ClusterId = Annotated[
    str, Path(min_length=3, max_length=128, pattern=r"^C-[0-9a-f-]+$")
]  # see models
Limit = Annotated[int, Query(ge=1, le=100)]
Token = Annotated[NextToken | None, Query()]  # one kind of token on every listing
JSON = "application/json"

router = Router()


def caller() -> str:
    return edge.caller_id(router)


def reply(model: Any) -> Response:
    return Response(200, content_type=JSON, body=model)


@router.get(
    "/albums/<albumId>/clusters",
    summary="The album's people, largest first",
    responses=edge.documented(200, 400, 404),
)
def list_clusters(
    albumId: AlbumId, limit: Limit = 50, nextToken: Token = None
) -> Response[ClusterPage]:
    items, token = people.list_clusters(caller(), albumId, limit, nextToken)
    return reply(ClusterPage(items=items, nextToken=token))


@router.post(
    "/albums/<albumId>/clusters/<clusterId>/label",
    summary="Name a person",
    responses=edge.documented(200, 400, 404, 409, 413, 415),
)
def label_cluster(albumId: AlbumId, clusterId: ClusterId, body: LabelCluster) -> Response[Cluster]:
    return reply(Cluster(**people.label(caller(), albumId, clusterId, body.name)))


@router.post(
    "/albums/<albumId>/clusters/merge",
    summary="Merge people into one",
    responses=edge.documented(200, 400, 404, 409, 413, 415),
)
def merge_clusters(albumId: AlbumId, body: MergeClusters) -> Response[ClusterRef]:
    return reply(ClusterRef(clusterId=people.merge(caller(), albumId, body.clusterIds)))


@router.post(
    "/albums/<albumId>/clusters/<clusterId>/split",
    summary="Split faces off a person (they are not this person)",
    responses=edge.documented(200, 400, 404, 409, 413, 415),
)
def split_cluster(
    albumId: AlbumId, clusterId: ClusterId, body: SplitCluster
) -> Response[ClusterRef]:
    new_id = people.split(caller(), albumId, clusterId, body.faceIds)
    return reply(ClusterRef(clusterId=new_id))


@router.get(
    "/albums/<albumId>/clusters/<clusterId>/suggestions",
    summary="People likely to be this one, most similar first",
    responses=edge.documented(200, 400, 404),
)
def suggestions(albumId: AlbumId, clusterId: ClusterId) -> Response[SuggestionList]:
    return reply(SuggestionList(items=people.suggestions(caller(), albumId, clusterId)))


@router.post(
    "/albums/<albumId>/clusters/recluster",
    summary="Cluster every face again, keeping every edit",
    responses={
        **edge.documented(200, 400, 404, 409, 413, 415),
        202: {
            "description": "Accepted: a large album's recluster, queued for its clustering writer",
            "content": {"application/json": {"model": Reclustered}},
        },
    },
)
def recluster(albumId: AlbumId) -> Response[Reclustered]:
    clusters, queued = people.recluster(caller(), albumId)
    answer = Reclustered(clusters=clusters, queued=queued)
    return Response(202 if queued else 200, content_type=JSON, body=answer)


@router.get(
    "/albums/<albumId>/edits",
    summary="The album's edits, newest first",
    responses=edge.documented(200, 400, 404),
)
def list_edits(albumId: AlbumId) -> Response[EditPage]:
    return reply(EditPage(items=people.edits(caller(), albumId)))


@router.post(
    "/albums/<albumId>/edits/undo",
    summary="Undo the latest edit",
    responses=edge.documented(200, 400, 404, 409, 413, 415),
)
def undo(albumId: AlbumId) -> Response[Undone]:
    return reply(Undone(**people.undo(caller(), albumId)))


app = edge.resolver(router)


# Actions without a body: an empty POST is the whole request.
handler = edge.entry_point(
    app, bodyless=("/albums/{albumId}/edits/undo", "/albums/{albumId}/clusters/recluster")
)
