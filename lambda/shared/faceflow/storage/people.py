"""An album's people, stored: faceflow.domain.people.AlbumPeople loaded, changed by one
operation, saved (the PEOPLE item and the people/ objects of faceflow.storage.keys).

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get
from faceflow.domain.ids import now_iso
from faceflow.domain.people import AlbumPeople, FaceEntry, from_state, to_state
from faceflow.storage import keys, objects
from faceflow.storage.albums import album_alive
from faceflow.storage.table import table

UNCHANGED = object()  # what an operation returns when it changed nothing (no commit)
COMMIT_ATTEMPTS = 5


class StoreBusy(RuntimeError):
    """Every attempt lost the commit race: worth retrying later (a step retries it)."""


# ---------------------------------------------------------------- objects


def put_array(key: str, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, np.float32), allow_pickle=False)
    objects.s3().put_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key, Body=buffer.getvalue())


def get_array(key: str) -> np.ndarray:
    body = objects.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)["Body"]
    return np.load(io.BytesIO(body.read()), allow_pickle=False)


def _get_json(key: str) -> dict[str, Any]:
    body = objects.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)["Body"]
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
    item = table().get_item(Key=keys.people_key(album_id), ConsistentRead=True).get("Item")
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
            item = table().get_item(Key=keys.people_key(album_id), ConsistentRead=True)["Item"]
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
        vectors_key_ = keys.people_state_key(
            stored.user_id, stored.album_id, version, "npy", attempt
        )
        matrix = (
            np.stack([stored.people.faces[f].vector for f in order])
            if order
            else np.zeros((0, 0), np.float32)
        )
        put_array(vectors_key_, matrix)
    state_key = keys.people_state_key(stored.user_id, stored.album_id, version, "json", attempt)
    document = {
        "people": to_state(stored.people),
        "faces": stored.facts,
        "vectorOrder": order,
        "clusters": stored.cluster_views(),
    }
    objects.s3().put_object(
        Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET),
        Key=state_key,
        Body=json.dumps(document, separators=(",", ":")).encode(),
        ContentType="application/json",
    )
    clusters = stored.people.members()
    try:
        table().put_item(
            Item={
                **keys.people_key(stored.album_id),
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
    if not album_alive(stored.user_id, stored.album_id):
        # deleted while this change ran: the deletion may have listed before these landed
        _delete_quietly(state_key, vectors_key_)
        table().delete_item(Key=keys.people_key(stored.album_id))
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
                objects.s3().delete_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)


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
