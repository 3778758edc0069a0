"""The people API's use cases: an album's clusters read and edited by its owner (each edit one
commit of faceflow.storage.people), the views the API answers with (face crops as presigned
URLs), and the photos of chosen people (what a share of them holds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import pagination
from faceflow.domain.errors import ClusterNotFound, EditConflict
from faceflow.domain.people import AlbumPeople, EditRefused
from faceflow.storage import albums, keys, people
from faceflow.storage.objects import derived_url
from faceflow.storage.people import StoredPeople
from faceflow.storage.table import album_items

# ---------------------------------------------------------------- the API's reads and edits


def _owned(user_id: str, album_id: str) -> StoredPeople:
    albums.get_album(user_id, album_id)  # AlbumNotFound for anyone but the owner
    return people.load(user_id, album_id)


def _edit(user_id: str, album_id: str, operation: Callable[[AlbumPeople], Any]):
    albums.get_album(user_id, album_id)
    try:
        return people.change(user_id, album_id, lambda stored: operation(stored.people))
    except people.StoreBusy as err:
        raise EditConflict("The album's people changed meanwhile: try again.") from err


def _face_view(face_id: str, fact: dict[str, Any]) -> dict[str, Any]:
    return {
        "faceId": face_id,
        "photoId": fact["photoId"],
        "box": [round(float(v), 1) for v in fact["box"]],
        "score": round(float(fact["score"]), 4),
        "cropUrl": derived_url(fact["cropKey"]),
    }


def cluster_view(stored: StoredPeople, cluster_id: str) -> dict[str, Any]:
    try:
        cluster = stored.people.cluster(cluster_id)
    except EditRefused:
        raise ClusterNotFound(cluster_id) from None
    return {
        "clusterId": cluster.cluster_id,
        "label": cluster.label,
        "size": cluster.size,
        "confidence": cluster.confidence,
        "faces": [_face_view(f, stored.facts[f]) for f in cluster.face_ids],
    }


def list_clusters(
    user_id: str, album_id: str, limit: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Largest first; the token is the offset into that order (stable between edits)."""
    stored = _owned(user_id, album_id)
    start = pagination.decode_offset(token)
    clusters = stored.people.clusters()
    page = clusters[start : start + limit]
    items = [cluster_view(stored, c.cluster_id) for c in page]
    more = start + limit < len(clusters)
    return items, pagination.encode_offset(start + limit if more else None)


def label(user_id: str, album_id: str, cluster_id: str, name: str) -> dict[str, Any]:
    stored, _ = _edit(user_id, album_id, lambda p: p.label(cluster_id, name))
    return cluster_view(stored, cluster_id)


def merge(user_id: str, album_id: str, cluster_ids: list[str]) -> str:
    _, edit = _edit(user_id, album_id, lambda p: p.merge(cluster_ids))
    return edit.cluster_id


def split(user_id: str, album_id: str, cluster_id: str, face_ids: list[str]) -> str:
    _, edit = _edit(user_id, album_id, lambda p: p.split(cluster_id, face_ids))
    return edit.cluster_id


def undo(user_id: str, album_id: str) -> dict[str, str]:
    _, edit = _edit(user_id, album_id, lambda p: p.undo())
    return {"editId": edit.edit_id, "type": edit.type}


def recluster(user_id: str, album_id: str) -> int:
    """The batch algorithm over every face again, keeping every edit (labels, merges, splits)."""
    stored, _ = _edit(user_id, album_id, lambda p: p.recluster())
    return len(stored.people.members())


def edits(user_id: str, album_id: str) -> list[dict[str, str]]:
    stored = _owned(user_id, album_id)
    return [e.as_item() for e in reversed(stored.people.edits)]


def suggestions(user_id: str, album_id: str, cluster_id: str) -> list[dict[str, Any]]:
    stored = _owned(user_id, album_id)
    try:
        ranked = stored.people.suggestions(cluster_id)
    except EditRefused:
        raise ClusterNotFound(cluster_id) from None
    out = []
    for other, similarity in ranked:
        cluster = stored.people.cluster(other)
        cover = stored.facts[cluster.face_ids[0]]
        out.append(
            {
                "clusterId": other,
                "label": cluster.label,
                "size": cluster.size,
                "similarity": similarity,
                "cropUrl": derived_url(cover["cropKey"]),
            }
        )
    return out


def photos_of_people(user_id: str, album_id: str, cluster_ids: list[str]) -> list[str]:
    """The album's processed, non-duplicate photos in which a face of any of these clusters
    appears, in upload order (what a share of those people holds)."""
    stored = _owned(user_id, album_id)
    members = stored.people.members()
    for cluster_id in cluster_ids:
        if cluster_id not in members:
            raise ClusterNotFound(cluster_id)
    photo_ids = {stored.facts[f]["photoId"] for c in cluster_ids for f in members[c]}
    kept = {
        p["photoId"]
        for p in album_items(album_id, keys.PHOTO, ("photoId", "status"))
        if p["status"] == "PROCESSED"
    }
    return sorted(photo_ids & kept)
