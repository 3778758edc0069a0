"""An album's people, stored: faceflow.people.AlbumPeople loaded, changed by one operation, saved.

    table       PK=ALBUM#{albumId} SK=FACE#{faceId}   one face (photo, box, landmarks, score,
                                                       quality, crop key, embedding key and row)
                PK=ALBUM#{albumId} SK=PEOPLE          {version, stateKey, vectorsKey, counts}
    embeddings  tenant/{u}/{a}/faces/{photoId}.npy    a photo's face vectors (Embed)
                tenant/{u}/{a}/people/v{n}.json       version n of the people state (clusters,
                                                       labels, constraints, undo log, face facts)
                tenant/{u}/{a}/people/v{n}.npy        the vectors of every clustered face

The PEOPLE item is the commit point: a change writes the new version's objects, then moves the
item from version n to n+1 under a condition. Two writers never both win (the loser reloads and
tries again), a reader never sees half a change, and nothing is bounded by DynamoDB's item size.
An edit reuses the vectors object of the version it started from (edits move no vectors).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from common import pagination
from faceflow import albums, storage
from faceflow.album_env import AlbumEnv, get
from faceflow.albums import AlbumError, AlbumNotFound, album_items, get_album, now_iso, plain, table
from faceflow.people import AlbumPeople, EditRefused, FaceEntry, from_state, to_state

PEOPLE_SK = "PEOPLE"
UNCHANGED = object()  # what an operation returns when it changed nothing (no commit)
COMMIT_ATTEMPTS = 5
# Statuses of photos whose faces count as the album's people (duplicates never get faces).
PEOPLE_PHOTO_STATUSES = frozenset({"PROCESSING", "PROCESSED"})


class ClusterNotFound(AlbumError):
    code = "NOT_FOUND"

    def __init__(self, cluster_id: str):
        super().__init__(f"No cluster {cluster_id} in this album.")


class EditConflict(AlbumError):
    code = "CONFLICT"


class StoreBusy(RuntimeError):
    """Every attempt lost the commit race: worth retrying later (a step retries it)."""


def people_key(album_id: str) -> dict[str, str]:
    return {"PK": f"ALBUM#{album_id}", "SK": PEOPLE_SK}


def face_sk(face_id: str) -> str:
    return f"FACE#{face_id}"


def face_id_of(photo_id: str, index: int) -> str:
    """Faces of a photo are numbered largest first: the same photo always gives the same ids."""
    return f"{photo_id}-{index:03d}"


def vectors_key(user_id: str, album_id: str, photo_id: str) -> str:
    return f"{storage.album_prefix(user_id, album_id)}faces/{photo_id}.npy"


def crop_key(user_id: str, album_id: str, face_id: str) -> str:
    return f"{storage.album_prefix(user_id, album_id)}crops/{face_id}.png"


def _state_key(user_id: str, album_id: str, version: int, ext: str, attempt: str) -> str:
    """Each writer's own objects (`attempt`): two writers racing for version n never share a
    key, so the loser deletes only what it wrote."""
    return f"{storage.album_prefix(user_id, album_id)}people/v{version:08d}-{attempt}.{ext}"


# ---------------------------------------------------------------- objects


def put_array(key: str, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, np.float32), allow_pickle=False)
    storage.s3().put_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key, Body=buffer.getvalue())


def get_array(key: str) -> np.ndarray:
    body = storage.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)["Body"]
    return np.load(io.BytesIO(body.read()), allow_pickle=False)


def _get_json(key: str) -> dict[str, Any]:
    body = storage.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)["Body"]
    return json.loads(body.read())


# ---------------------------------------------------------------- the album's people


@dataclass
class StoredPeople:
    """One version of an album's people: the model, the face facts, where its vectors are."""

    user_id: str
    album_id: str
    version: int
    people: AlbumPeople
    facts: dict[str, dict[str, Any]]  # faceId → photoId, box, score, lowQuality, cropKey
    vectors_key: str | None
    state_key: str | None = None

    def cluster_views(self) -> list[dict[str, Any]]:
        return [
            {
                "clusterId": c.cluster_id,
                "label": c.label,
                "size": c.size,
                "confidence": c.confidence,
                "faceIds": list(c.face_ids),
            }
            for c in self.people.clusters()
        ]


def _empty(user_id: str, album_id: str) -> StoredPeople:
    return StoredPeople(user_id, album_id, 0, AlbumPeople(), {}, None)


def load(user_id: str, album_id: str) -> StoredPeople:
    """The latest committed version (an empty album has version 0)."""
    item = table().get_item(Key=people_key(album_id), ConsistentRead=True).get("Item")
    if item is None:
        return _empty(user_id, album_id)
    for _ in range(3):
        try:
            state = _get_json(item["stateKey"])
            vectors = get_array(item["vectorsKey"]) if item.get("vectorsKey") else None
            break
        except ClientError as err:  # a newer commit removed this version meanwhile: read again
            if err.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise
            item = table().get_item(Key=people_key(album_id), ConsistentRead=True)["Item"]
    else:
        raise StoreBusy("the people state kept changing while being read")
    order = state["vectorOrder"]
    facts = state["faces"]
    entries = [
        FaceEntry(f, facts[f]["photoId"], vectors[i], bool(facts[f]["lowQuality"]))
        for i, f in enumerate(order)
    ]
    people = from_state(state["people"], entries)
    return StoredPeople(
        user_id,
        album_id,
        int(item["version"]),
        people,
        facts,
        item.get("vectorsKey"),
        item["stateKey"],
    )


def _commit(stored: StoredPeople, *, vectors_changed: bool) -> int:
    """Write version n+1 and move the PEOPLE item to it if it is still at n; 0 on a lost race."""
    version = stored.version + 1
    attempt = os.urandom(6).hex()
    order = list(stored.people.faces)  # the order the vectors object holds them in
    vectors_key_ = stored.vectors_key
    if vectors_changed or vectors_key_ is None:
        vectors_key_ = _state_key(stored.user_id, stored.album_id, version, "npy", attempt)
        matrix = (
            np.stack([stored.people.faces[f].vector for f in order])
            if order
            else np.zeros((0, 0), np.float32)
        )
        put_array(vectors_key_, matrix)
    state_key = _state_key(stored.user_id, stored.album_id, version, "json", attempt)
    document = {
        "people": to_state(stored.people),
        "faces": stored.facts,
        "vectorOrder": order,
        "clusters": stored.cluster_views(),
    }
    storage.s3().put_object(
        Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET),
        Key=state_key,
        Body=json.dumps(document, separators=(",", ":")).encode(),
        ContentType="application/json",
    )
    clusters = stored.people.members()
    try:
        table().put_item(
            Item={
                **people_key(stored.album_id),
                "userId": stored.user_id,
                "version": version,
                "stateKey": state_key,
                "vectorsKey": vectors_key_,
                "faceCount": len(order),
                "clusterCount": len(clusters),
                "updatedAt": now_iso(),
            },
            ConditionExpression="attribute_not_exists(PK) OR version = :v",
            ExpressionAttributeValues={":v": stored.version},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        _delete_quietly(state_key, vectors_key_ if vectors_key_ != stored.vectors_key else None)
        return 0
    if not albums.album_alive(stored.user_id, stored.album_id):
        # deleted while this change ran: the deletion may have listed before these landed
        _delete_quietly(state_key, vectors_key_)
        table().delete_item(Key=people_key(stored.album_id))
    if stored.state_key:  # the version before is no one's any more (a reader retries)
        _delete_quietly(
            stored.state_key, stored.vectors_key if stored.vectors_key != vectors_key_ else None
        )
    stored.state_key, stored.vectors_key = state_key, vectors_key_
    return version


def _delete_quietly(*keys: str | None) -> None:
    for key in keys:
        if key:
            # a leftover version object costs bytes, never correctness
            with contextlib.suppress(ClientError):
                storage.s3().delete_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)


def change(
    user_id: str,
    album_id: str,
    operation: Callable[[StoredPeople], Any],
    *,
    vectors_changed: bool = False,
) -> tuple[StoredPeople, Any]:
    """Load, apply `operation` (it may raise EditRefused), commit; again from the start when
    another writer committed first. Returns the committed state and the operation's result."""
    for _ in range(COMMIT_ATTEMPTS):
        stored = load(user_id, album_id)
        result = operation(stored)
        if result is UNCHANGED:
            return stored, result  # nothing new: nothing to commit (a retried step)
        version = _commit(stored, vectors_changed=vectors_changed)
        if version:
            stored.version = version
            return stored, result
    raise StoreBusy(f"album {album_id}: {COMMIT_ATTEMPTS} concurrent changes won first")


# ---------------------------------------------------------------- faces (pipeline)


def face_items(album_id: str, photo_id: str | None = None) -> list[dict[str, Any]]:
    prefix = face_sk(photo_id) if photo_id else "FACE#"
    return [plain(i) for i in album_items(album_id, prefix)]


def add_faces(user_id: str, album_id: str, photo_ids: Iterable[str]) -> int:
    """The Cluster step: the embedded faces of these photos join the album's people (a fresh
    album is clustered with the batch algorithm, later faces assigned at once). Faces already
    placed are left where they are, so a retried step adds nothing twice."""
    wanted = set(photo_ids)
    photos = {
        p["photoId"]: p["status"]
        for p in album_items(album_id, "PHOTO#", ("photoId", "status"))
        if p["photoId"] in wanted
    }
    faces = [
        f
        for f in face_items(album_id)
        if photos.get(f["photoId"]) in PEOPLE_PHOTO_STATUSES and f.get("embeddingKey")
    ]
    vectors: dict[str, np.ndarray] = {}

    def _add(stored: StoredPeople) -> Any:
        new = [f for f in faces if f["faceId"] not in stored.people.faces]
        if not new:
            return UNCHANGED
        for key in {f["embeddingKey"] for f in new} - vectors.keys():
            vectors[key] = get_array(key)
        entries = [
            FaceEntry(
                f["faceId"],
                f["photoId"],
                vectors[f["embeddingKey"]][int(f["embeddingRow"])],
                bool(f["lowQuality"]),
            )
            for f in new
        ]
        fresh = not stored.people.faces
        stored.people.add_faces(entries)
        if fresh and len(entries) > 1:
            stored.people.recluster()  # a fresh album: the batch algorithm over all its faces
        for f in new:
            stored.facts[f["faceId"]] = {
                "photoId": f["photoId"],
                "box": f["box"],
                "score": f["score"],
                "lowQuality": bool(f["lowQuality"]),
                "cropKey": f["cropKey"],
            }
        return len(new)

    _, added = change(user_id, album_id, _add, vectors_changed=True)
    return 0 if added is UNCHANGED else added


# ---------------------------------------------------------------- the API's reads and edits


def _owned(user_id: str, album_id: str) -> StoredPeople:
    get_album(user_id, album_id)  # AlbumNotFound for anyone but the owner
    return load(user_id, album_id)


def _edit(user_id: str, album_id: str, operation: Callable[[AlbumPeople], Any]):
    get_album(user_id, album_id)
    try:
        return change(user_id, album_id, lambda stored: operation(stored.people))
    except StoreBusy as err:
        raise EditConflict("The album's people changed meanwhile: try again.") from err


def crop_url(key: str) -> str:
    expiry = int(os.environ.get(AlbumEnv.THUMBNAIL_URL_EXPIRY_SECONDS.value, "900"))
    return storage.s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": get(AlbumEnv.DERIVED_BUCKET), "Key": key},
        ExpiresIn=expiry,
    )


def _face_view(face_id: str, fact: dict[str, Any]) -> dict[str, Any]:
    return {
        "faceId": face_id,
        "photoId": fact["photoId"],
        "box": [round(float(v), 1) for v in fact["box"]],
        "score": round(float(fact["score"]), 4),
        "cropUrl": crop_url(fact["cropKey"]),
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
                "cropUrl": crop_url(cover["cropKey"]),
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
        for p in album_items(album_id, "PHOTO#", ("photoId", "status"))
        if p["status"] == "PROCESSED"
    }
    return sorted(photo_ids & kept)


__all__ = ["AlbumNotFound", "ClusterNotFound", "StoreBusy"]
