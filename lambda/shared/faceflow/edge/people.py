"""The people API's use cases: an album's clusters read and edited by its owner (each edit one
commit of faceflow.storage.people), the views the API answers with (face crops as presigned
URLs), and the photos of chosen people (what a share of them holds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from common import pagination
from faceflow.domain.clustering import CentroidIndex
from faceflow.domain.errors import ClusterNotFound, EditConflict
from faceflow.domain.ids import new_id
from faceflow.domain.people import AlbumPeople, EditRefused
from faceflow.storage import albums, keys, messages, people
from faceflow.storage.objects import derived_url
from faceflow.storage.people import ClusterRecord, Lease, Slice
from faceflow.storage.photos import photo_statuses

# How long an edit waits for the album's writer (a Cluster batch, another edit) to finish.
EDIT_WAIT_SECONDS = 5.0
SUGGESTION_CANDIDATES = 16  # nearest centroids checked for a clash, per suggestion list

# ---------------------------------------------------------------- the API's reads and edits


def _edit(
    user_id: str,
    album_id: str,
    load: Callable[[Lease], Slice],
    operation: Callable[[AlbumPeople], Any],
) -> tuple[Slice, Any]:
    albums.get_album(user_id, album_id)  # AlbumNotFound for anyone but the owner
    try:
        return people.change_slice(
            user_id, album_id, load, operation, wait_seconds=EDIT_WAIT_SECONDS
        )
    except people.StoreBusy as err:
        raise EditConflict("The album's people are being changed: try again.") from err


def _face_view(face_id: str, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "faceId": face_id,
        "photoId": view["photoId"],
        "box": [round(float(v), 1) for v in view["box"]],
        "score": round(float(view["score"]), 4),
        "cropUrl": derived_url(view["cropKey"]),
    }


def _view(album_id: str, record: ClusterRecord) -> dict[str, Any]:
    """A cluster as the API shows it: its record (a large one's faces from its members)."""
    views = record.views
    if views is None:
        views = {
            m.face_id: {"photoId": m.photo_id, **m.facts}
            for m in people.members(album_id, record.cluster_id, vectors=False)
        }
    return {
        "clusterId": record.cluster_id,
        "label": record.label,
        "size": record.size,
        "confidence": record.confidence,
        "faces": [_face_view(f, views[f]) for f in sorted(views)],
    }


def cluster_view(album_id: str, cluster_id: str) -> dict[str, Any]:
    """One cluster as the API shows it: one record and one query of its members."""
    record = people.cluster(album_id, cluster_id)
    if record is None:
        raise ClusterNotFound(cluster_id)
    return _view(album_id, record)


def _page_position(album_id: str, token: str | None) -> dict[str, str] | None:
    return pagination.decode(
        token,
        ("PK", "SK", "LSI1SK"),
        lambda p: p["PK"] == keys.people_pk(album_id) and p["SK"].startswith(keys.CLUSTER),
    )


def list_clusters(
    user_id: str, album_id: str, limit: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Largest first (LSI1); a page reads its clusters and their members, whatever the album's
    size."""
    albums.get_album(user_id, album_id)
    records, last = people.cluster_page(album_id, limit, _page_position(album_id, token))
    items = [_view(album_id, r) for r in records]
    return items, pagination.encode(last)


def _found(cluster_ids: list[str]) -> Callable[[AlbumPeople], None]:
    def check(p: AlbumPeople) -> None:
        held = p.members()
        for cluster_id in cluster_ids:
            if cluster_id not in held:
                raise ClusterNotFound(cluster_id)

    return check


def label(user_id: str, album_id: str, cluster_id: str, name: str) -> dict[str, Any]:
    _edit(
        user_id,
        album_id,
        lambda lease: people.load_slice(lease, [cluster_id]),
        lambda p: p.label(cluster_id, name),
    )
    return cluster_view(album_id, cluster_id)


def merge(user_id: str, album_id: str, cluster_ids: list[str]) -> str:
    _, edit = _edit(
        user_id,
        album_id,
        lambda lease: people.load_slice(lease, cluster_ids),
        lambda p: p.merge(cluster_ids),
    )
    return edit.cluster_id


def split(user_id: str, album_id: str, cluster_id: str, face_ids: list[str]) -> str:
    _, edit = _edit(
        user_id,
        album_id,
        lambda lease: people.load_slice(lease, [cluster_id]),
        lambda p: p.split(cluster_id, face_ids),
    )
    return edit.cluster_id


def _latest_edit_slice(lease: Lease) -> Slice:
    latest = people.edit_log(lease.album_id, latest=1)
    faces = [f for e in latest for f in e.moves]
    return people.load_slice(lease, (), faces, edits=latest)


def undo(user_id: str, album_id: str) -> dict[str, str]:
    _, edit = _edit(user_id, album_id, _latest_edit_slice, lambda p: p.undo())
    return {"editId": edit.edit_id, "type": edit.type}


def _whole_album(lease: Lease) -> Slice:
    """Every face of the album (the batch recluster: its one whole read)."""
    return people.load_slice(lease, [r.cluster_id for r in people.all_clusters(lease.album_id)])


# A recluster reads the whole album: up to this many faces it runs in the request, beyond it
# the album's one writer runs it (API Gateway's 29 s; the writer has minutes).
RECLUSTER_IN_REQUEST_FACES = 10_000


def recluster(user_id: str, album_id: str) -> tuple[int, bool]:
    """The batch algorithm over every face again, keeping every edit (labels, merges, splits):
    (the album's clusters, whether it was queued for the album's writer instead)."""
    albums.get_album(user_id, album_id)
    head = people.head(album_id)
    if int(head.get("faceCount", 0)) > RECLUSTER_IN_REQUEST_FACES:
        messages.request_recluster(user_id, album_id, new_id())
        return int(head.get("clusterCount", 0)), True
    return recluster_now(user_id, album_id, EDIT_WAIT_SECONDS), False


def recluster_now(user_id: str, album_id: str, wait_seconds: float) -> int:
    """The recluster itself, under the album's lease (the request's, or the writer's)."""
    try:
        part, _ = people.change_slice(
            user_id, album_id, _whole_album, lambda p: p.recluster(), wait_seconds=wait_seconds
        )
    except people.StoreBusy as err:
        raise EditConflict("The album's people are being changed: try again.") from err
    return len(part.people.members())


def edits(user_id: str, album_id: str) -> list[dict[str, str]]:
    albums.get_album(user_id, album_id)
    return people.edit_list(album_id)


def _nearest_clusters(album_id: str, record: ClusterRecord, k: int) -> list[str]:
    """The clusters whose centroids are nearest this one's (FAISS over the records' sums)."""
    others = [
        r for r in people.all_clusters(album_id) if r.good and r.cluster_id != record.cluster_id
    ]
    if not others or record.sum is None:
        return [r.cluster_id for r in others[:k]]
    index = CentroidIndex.of_sums([r.cluster_id for r in others], np.stack([r.sum for r in others]))
    return [c for c, _ in index.nearest(record.sum, k=k)]


def suggestions(user_id: str, album_id: str, cluster_id: str) -> list[dict[str, Any]]:
    """Ranked by the domain on a slice: this cluster and its nearest candidates."""
    albums.get_album(user_id, album_id)
    record = people.cluster(album_id, cluster_id)
    if record is None:
        raise ClusterNotFound(cluster_id)
    candidates = _nearest_clusters(album_id, record, SUGGESTION_CANDIDATES)
    lease = Lease(user_id, album_id, "", people.head(album_id))  # a read: no lease taken
    part = people.load_slice(lease, [cluster_id, *candidates])
    try:
        ranked = part.people.suggestions(cluster_id)
    except EditRefused:
        raise ClusterNotFound(cluster_id) from None
    out = []
    for other, similarity in ranked:
        held = sorted(f for f, c in part.people.cluster_of.items() if c == other)
        other_record = part.before[other]
        out.append(
            {
                "clusterId": other,
                "label": other_record.label,
                "size": other_record.size,
                "similarity": similarity,
                "cropUrl": derived_url(part.known[held[0]].facts["cropKey"]),
            }
        )
    return out


def photos_of_people(user_id: str, album_id: str, cluster_ids: list[str]) -> list[str]:
    """The album's processed, non-duplicate photos in which a face of any of these clusters
    appears, in upload order (what a share of those people holds)."""
    albums.get_album(user_id, album_id)
    photo_ids: set[str] = set()
    for cluster_id in cluster_ids:
        found = people.members(album_id, cluster_id)
        if not found:
            raise ClusterNotFound(cluster_id)
        photo_ids |= {m.photo_id for m in found}
    kept = {p for p, status in photo_statuses(album_id, photo_ids).items() if status == "PROCESSED"}
    return sorted(kept)
