"""Albums and their items in FaceFlow's single table; ownership checked on every access.

    PK=USER#{userId}   SK=ALBUM#{albumId}   the album (name, createdAt, photoCount)
    PK=ALBUM#{albumId} SK=PHOTO#{photoId}   one photo (keys, hashes, EXIF, status, error)
    PK=ALBUM#{albumId} SK=SHA256#{digest}   claims a content digest for one photo (exact dedupe)
    PK=ALBUM#{albumId} SK=JOB#{jobId}       one pipeline run (status, step, photoIds, error)
    PK=ALBUM#{albumId} SK=SHARE#{shareId}   one share, and its owner's lookup and rate limit
                                            under PK=USER#{userId} (faceflow.sharing)
    GSI1 (GSI1PK=STATUS#{status}, GSI1SK=updatedAt), GSI2 (GSI2PK={userId}#{albumId}),
    LSI1 (PK, LSI1SK=createdAt)

Every album item carries `userId`: a caller who is not the owner is told "not found", exactly as
for an album that does not exist.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from common import aws, pagination
from common.erasure import register
from common.errors import DomainError
from faceflow import storage
from faceflow.album_env import AlbumEnv, get

PHOTO_STATUSES = ("UPLOADING", "PROCESSING", "PROCESSED", "DUPLICATE", "FAILED")
TERMINAL_PHOTO = frozenset({"PROCESSED", "DUPLICATE", "FAILED"})
ACTIVE_JOB = frozenset({"QUEUED", "RUNNING"})


def Key(name: str) -> Any:
    from boto3.dynamodb.conditions import Key as _Key

    return _Key(name)


class AlbumError(DomainError):
    """A request the album domain refuses; `code` and `message` are for the client (the API's
    edge, common.api, maps the code to a status)."""

    code = "VALIDATION_ERROR"


class AlbumNotFound(AlbumError):
    code = "NOT_FOUND"

    def __init__(self, what: str = "album"):
        super().__init__(f"No such {what}.")


class InvalidUpload(AlbumError):
    pass


class UnsupportedType(AlbumError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class UploadTooLarge(AlbumError):
    code = "FILE_TOO_LARGE"


class UploadConflict(AlbumError):
    code = "CONFLICT"


def table():
    return aws.table(get(AlbumEnv.TABLE))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """Time-sortable (milliseconds, then 64 random bits): listing by id is upload order."""
    return f"{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def album_key(user_id: str, album_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"ALBUM#{album_id}"}


def photo_key(album_id: str, photo_id: str) -> dict[str, str]:
    return {"PK": f"ALBUM#{album_id}", "SK": f"PHOTO#{photo_id}"}


def owner_index(user_id: str, album_id: str) -> str:
    return f"{user_id}#{album_id}"


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints/floats, recursively (responses and step outputs are JSON)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------- albums


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
            **album_key(user_id, album_id),
            "LSI1SK": created,
            "GSI2PK": owner_index(user_id, album_id),
            "GSI2SK": "ALBUM",
            "albumId": album_id,
            "userId": user_id,
            "name": name,
            "createdAt": created,
            "photoCount": 0,
            "purgeOriginals": purge_originals,
        },
        ConditionExpression="attribute_not_exists(PK)",
    )
    return Album(album_id, user_id, name, created, 0, purge_originals)


def list_albums(user_id: str, limit: int, token: str | None) -> tuple[list[Album], str | None]:
    pk = f"USER#{user_id}"
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
        if i["SK"].startswith("ALBUM#") and not i.get("deleting")
    ]
    return albums, pagination.encode(page.get("LastEvaluatedKey"))


def get_album(user_id: str, album_id: str) -> Album:
    """The caller's album; anyone else's (or none, or one being deleted) is AlbumNotFound,
    indistinguishably."""
    item = table().get_item(Key=album_key(user_id, album_id), ConsistentRead=True).get("Item")
    if item is None or item.get("userId") != user_id or item.get("deleting"):
        raise AlbumNotFound()
    return Album.from_item(item)


def album_items(album_id: str, prefix: str = "", attributes: tuple[str, ...] = ()):
    """Every item of an album's partition (optionally one kind, by SK prefix)."""
    condition = Key("PK").eq(f"ALBUM#{album_id}")
    if prefix:
        condition = condition & Key("SK").begins_with(prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if attributes:
        kwargs["ProjectionExpression"] = ",".join(f"#{a}" for a in attributes)
        kwargs["ExpressionAttributeNames"] = {f"#{a}": a for a in attributes}
    return _all_pages(**kwargs)


# ---------------------------------------------------------------- photos and status


def photo_view(item: dict[str, Any], thumbnail_url: str | None) -> dict[str, Any]:
    return {
        "photoId": item["photoId"],
        "fileName": item["fileName"],
        "status": item["status"],
        "duplicateOf": item.get("duplicateOf"),
        "width": plain(item.get("width")),
        "height": plain(item.get("height")),
        "takenAt": item.get("takenAt"),
        "faces": plain(item.get("faceCount", 0)),
        "thumbnailUrl": thumbnail_url,
        "error": item.get("error"),
    }


def list_photos(
    user_id: str, album_id: str, limit: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    get_album(user_id, album_id)
    pk = f"ALBUM#{album_id}"
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(pk) & Key("SK").begins_with("PHOTO#"),
        "Limit": limit,
    }
    start = pagination.decode(
        token, ("PK", "SK"), lambda key: key["PK"] == pk and key["SK"].startswith("PHOTO#")
    )
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = table().query(**kwargs)
    s3 = storage.s3()
    derived = get(AlbumEnv.DERIVED_BUCKET)
    expiry = int(os.environ.get(AlbumEnv.THUMBNAIL_URL_EXPIRY_SECONDS.value, "900"))
    photos = []
    for item in page["Items"]:
        url = None
        if item.get("thumbKey"):
            url = s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": derived, "Key": item["thumbKey"]},
                ExpiresIn=expiry,
            )
        photos.append(photo_view(item, url))
    return photos, pagination.encode(page.get("LastEvaluatedKey"))


def album_status(user_id: str, album_id: str) -> dict[str, Any]:
    get_album(user_id, album_id)
    counts = dict.fromkeys(PHOTO_STATUSES, 0)
    faces = clusters = 0
    jobs = []
    for item in album_items(album_id):
        kind = item["SK"].split("#", 1)[0]
        if kind == "PHOTO":
            counts[item["status"]] += 1
        elif kind == "FACE":
            faces += 1
        elif kind == "PEOPLE":  # faceflow.people_store's commit point
            clusters = int(item.get("clusterCount", 0))
        elif kind == "JOB":
            jobs.append(
                {
                    "jobId": item["jobId"],
                    "status": item["status"],
                    "photoCount": plain(item.get("photoCount", 0)),
                    "createdAt": item["createdAt"],
                    "updatedAt": item["updatedAt"],
                    "error": item.get("error"),
                }
            )
    busy = counts["PROCESSING"] > 0 or any(j["status"] in ACTIVE_JOB for j in jobs)
    jobs.sort(key=lambda j: j["createdAt"], reverse=True)
    return {
        "albumId": album_id,
        "status": "PROCESSING" if busy else "IDLE",
        "photos": {
            "total": sum(counts.values()),
            "processed": counts["PROCESSED"],
            "duplicates": counts["DUPLICATE"],
            "failed": counts["FAILED"],
            "pending": counts["UPLOADING"] + counts["PROCESSING"],
        },
        "faces": faces,
        "clusters": clusters,
        "jobs": jobs,
    }


# ---------------------------------------------------------------- deletion


def album_alive(user_id: str, album_id: str) -> bool:
    """Whether the album still exists and no deletion has begun (a consistent read). Pipeline
    steps ask after their last write: a deletion that began before it may have listed the album
    before the write landed, so the step deletes what it wrote itself (faceflow.face_steps)."""
    item = table().get_item(Key=album_key(user_id, album_id), ConsistentRead=True).get("Item")
    return item is not None and item.get("userId") == user_id and not item.get("deleting")


def _mark_deleting(user_id: str, album_id: str) -> None:
    """First of a deletion: from here on every step's check answers "gone"."""
    try:
        table().update_item(
            Key=album_key(user_id, album_id),
            UpdateExpression="SET deleting = :t",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": True},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _delete_album_data(user_id: str, album_id: str) -> int:
    """The deletion mark, then objects under the album's prefix in every bucket, then its items
    (only the caller's), then the album item last, so an interrupted deletion can be repeated to
    the end and a pipeline step finishing meanwhile cleans up after itself (album_alive)."""
    _mark_deleting(user_id, album_id)
    storage.delete_everywhere(storage.album_prefix(user_id, album_id))
    removed = 0
    with table().batch_writer() as batch:
        for item in album_items(album_id, attributes=("PK", "SK", "userId")):
            if item.get("userId") == user_id:
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
                removed += 1
    # The user's lookups of the album's shares (faceflow.sharing) point into it.
    for item in _user_items(user_id, "SHARE#"):
        if item.get("albumId") == album_id:
            table().delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
    table().delete_item(Key=album_key(user_id, album_id))
    return removed


def _user_items(user_id: str, prefix: str = ""):
    condition = Key("PK").eq(f"USER#{user_id}")
    if prefix:
        condition = condition & Key("SK").begins_with(prefix)
    return list(_all_pages(KeyConditionExpression=condition))


def delete_album(user_id: str, album_id: str) -> None:
    """Everything of the caller's album, in all buckets and the table. Not the caller's (or
    already gone): AlbumNotFound. A deletion interrupted half-way can be asked for again."""
    item = table().get_item(Key=album_key(user_id, album_id), ConsistentRead=True).get("Item")
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
    albums = [
        item["albumId"]
        for item in _all_pages(
            KeyConditionExpression=Key("PK").eq(f"USER#{user_id}") & Key("SK").begins_with("ALBUM#")
        )
    ]
    for album_id in albums:
        _delete_album_data(user_id, album_id)
    # Objects of albums whose items were already gone (an interrupted erasure).
    storage.delete_everywhere(storage.user_prefix(user_id))
    # What else the user's partition holds: share lookups, the share rate limit's counters.
    with table().batch_writer() as batch:
        for item in _user_items(user_id):
            batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
    return {"albums": len(albums)}


def _all_pages(**kwargs):
    while True:
        page = table().query(ConsistentRead=True, **kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
