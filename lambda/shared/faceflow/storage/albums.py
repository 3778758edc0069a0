"""Albums in FaceFlow's single table (faceflow.storage.keys): create, read, page, delete, and
the user erasure's part (registered with common.erasure as "albums").

Every album item carries `userId`: a caller who is not the owner is told "not found", exactly as
for an album that does not exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from common import pagination
from common.erasure import register
from faceflow.config import AlbumEnv
from faceflow.domain.errors import AlbumNotFound
from faceflow.domain.ids import new_id, now_iso
from faceflow.domain.statuses import PHOTO_STATUSES
from faceflow.storage import keys, objects
from faceflow.storage.table import Key, album_items, all_pages, table, user_items


@dataclass(frozen=True)
class Album:
    album_id: str
    user_id: str
    name: str
    created_at: str
    photo_count: int
    purge_originals: bool = False  # delete each original once processed (privacy option)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Album:
        return cls(
            item["albumId"],
            item["userId"],
            item["name"],
            item["createdAt"],
            int(item.get("photoCount", 0)),
            bool(item.get("purgeOriginals", False)),
        )

    def summary(self) -> dict[str, Any]:
        return {
            "albumId": self.album_id,
            "name": self.name,
            "createdAt": self.created_at,
            "photoCount": self.photo_count,
        }


def create_album(user_id: str, name: str, purge_originals: bool = False) -> Album:
    album_id, created = new_id(), now_iso()
    table().put_item(
        Item={
            **keys.album_key(user_id, album_id),
            "LSI1SK": created,
            "GSI2PK": keys.owner_index(user_id, album_id),
            "GSI2SK": keys.ALBUM_GSI2SK,
            "albumId": album_id,
            "userId": user_id,
            "name": name,
            "createdAt": created,
            "photoCount": 0,
            "purgeOriginals": purge_originals,
        },
        ConditionExpression="attribute_not_exists(PK)",
    )
    # The album's photos by status, counted from its first photo on (faceflow.storage.photos).
    table().put_item(
        Item={
            **keys.counts_key(album_id),
            "userId": user_id,
            "complete": True,
            **dict.fromkeys(PHOTO_STATUSES, 0),
        }
    )
    return Album(album_id, user_id, name, created, 0, purge_originals)


def list_albums(user_id: str, limit: int, token: str | None) -> tuple[list[Album], str | None]:
    pk = keys.user_pk(user_id)
    kwargs: dict[str, Any] = {
        "IndexName": "LSI1",
        "KeyConditionExpression": Key("PK").eq(pk),
        "ScanIndexForward": False,  # newest first
        "Limit": limit,
    }
    start = pagination.decode(token, ("PK", "SK", "LSI1SK"), lambda key: key["PK"] == pk)
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = table().query(**kwargs)
    albums = [
        Album.from_item(i)
        for i in page["Items"]
        if i["SK"].startswith(keys.ALBUM) and not i.get("deleting")
    ]
    return albums, pagination.encode(page.get("LastEvaluatedKey"))


def album_item(user_id: str, album_id: str) -> dict[str, Any] | None:
    return table().get_item(Key=keys.album_key(user_id, album_id), ConsistentRead=True).get("Item")


def get_album(user_id: str, album_id: str) -> Album:
    """The caller's album; anyone else's (or none, or one being deleted) is AlbumNotFound,
    indistinguishably."""
    item = album_item(user_id, album_id)
    if item is None or item.get("userId") != user_id or item.get("deleting"):
        raise AlbumNotFound()
    return Album.from_item(item)


def people_counts(album_id: str) -> tuple[int, int]:
    """(faces placed, clusters) from the album's people head (faceflow.storage.people writes
    it; read here so the album API needs no numpy)."""
    item = table().get_item(Key=keys.people_key(album_id), ConsistentRead=True).get("Item") or {}
    return int(item.get("faceCount", 0)), int(item.get("clusterCount", 0))


def count_photo(user_id: str, album_id: str) -> None:
    table().update_item(
        Key=keys.album_key(user_id, album_id),
        UpdateExpression="ADD photoCount :one",
        ExpressionAttributeValues={":one": 1},
    )


# ---------------------------------------------------------------- deletion


def album_alive(user_id: str, album_id: str) -> bool:
    """Whether the album still exists and no deletion has begun (a consistent read). Pipeline
    steps ask after their last write: a deletion that began before it may have listed the album
    before the write landed, so the step deletes what it wrote itself (faceflow.edge.face_steps)."""
    item = album_item(user_id, album_id)
    return item is not None and item.get("userId") == user_id and not item.get("deleting")


def _mark_deleting(user_id: str, album_id: str) -> None:
    """First of a deletion: from here on every step's check answers "gone"."""
    try:
        table().update_item(
            Key=keys.album_key(user_id, album_id),
            UpdateExpression="SET deleting = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": True},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _partition(pk: str):
    return all_pages(
        KeyConditionExpression=Key("PK").eq(pk),
        ProjectionExpression="PK, SK, userId",
    )


def _album_records(album_id: str):
    """Every item of the album: its partition, then its people's partitions (each cluster's
    members, the clusters, the undo log and constraints: faceflow.storage.people)."""
    yield from album_items(album_id, attributes=("PK", "SK", "userId"))
    clusters = list(_partition(keys.people_pk(album_id)))
    for item in clusters:
        if item["SK"].startswith(keys.CLUSTER):
            yield from _partition(keys.members_pk(album_id, item["SK"][len(keys.CLUSTER) :]))
    yield from clusters
    yield from _partition(keys.placed_pk(album_id))
    yield from _partition(keys.edits_pk(album_id))


def _delete_album_data(user_id: str, album_id: str) -> int:
    """The deletion mark, then objects under the album's prefix in every bucket, then its items
    (only the caller's), then the album item last, so an interrupted deletion can be repeated to
    the end and a pipeline step finishing meanwhile cleans up after itself (album_alive)."""
    _mark_deleting(user_id, album_id)
    objects.delete_everywhere(keys.album_prefix(user_id, album_id))
    removed = 0
    with table().batch_writer() as batch:
        for item in _album_records(album_id):
            if item.get("userId") == user_id:
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
                removed += 1
    # The user's lookups of the album's shares (faceflow.storage.shares) point into it.
    for item in user_items(user_id, keys.SHARE):
        if item.get("albumId") == album_id:
            table().delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
    table().delete_item(Key=keys.album_key(user_id, album_id))
    return removed


def delete_album(user_id: str, album_id: str) -> None:
    """Everything of the caller's album, in all buckets and the table. Not the caller's (or
    already gone): AlbumNotFound. A deletion interrupted half-way can be asked for again."""
    item = album_item(user_id, album_id)
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound()
    _delete_album_data(user_id, album_id)


@register("albums")
def erase_user_albums(user_id: str) -> dict[str, int]:
    """Every album of a user (the user erasure): how many albums were erased.

    Without an album table configured (the styling flow alone: its tests, a deployment without
    FaceFlow) there are no albums; stacks/albums gives the erasure function the table."""
    if not os.environ.get(AlbumEnv.TABLE.value):
        return {"albums": 0}
    albums = [item["albumId"] for item in user_items(user_id, keys.ALBUM)]
    for album_id in albums:
        _delete_album_data(user_id, album_id)
    # Objects of albums whose items were already gone (an interrupted erasure).
    objects.delete_everywhere(keys.user_prefix(user_id))
    # What else the user's partition holds: share lookups, the share rate limit's counters.
    with table().batch_writer() as batch:
        for item in user_items(user_id):
            batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
    return {"albums": len(albums)}
