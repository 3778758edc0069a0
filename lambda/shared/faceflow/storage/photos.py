"""Photo items (PK=ALBUM#{albumId} SK=PHOTO#{photoId}) and their SHA-256 claims: every status
change is one conditional write, so a retried step or a re-delivered event never does anything
twice, and a terminal status is never overwritten."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from common import pagination
from faceflow.config import AlbumEnv, get
from faceflow.domain.errors import AlbumNotFound
from faceflow.domain.ids import now_iso
from faceflow.domain.statuses import PHOTO_STATUSES
from faceflow.storage import keys
from faceflow.storage.table import Key, album_items, batch_get, conditional, table


def photo_item(album_id: str, photo_id: str) -> dict[str, Any] | None:
    return table().get_item(Key=keys.photo_key(album_id, photo_id), ConsistentRead=True).get("Item")


def owned_photo(user_id: str, album_id: str, photo_id: str) -> dict[str, Any]:
    """The caller's photo; anyone else's (or none) is AlbumNotFound("photo")."""
    item = photo_item(album_id, photo_id)
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound("photo")
    return item


def album_photos(album_id: str, attributes: tuple[str, ...] = ()):
    return album_items(album_id, keys.PHOTO, attributes)


def photos_page(album_id: str, limit: int, token: str | None) -> tuple[list[dict], str | None]:
    """One page of the album's photos, in upload order."""
    pk = keys.album_pk(album_id)
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("PK").eq(pk) & Key("SK").begins_with(keys.PHOTO),
        "Limit": limit,
    }
    start = pagination.decode(
        token, ("PK", "SK"), lambda key: key["PK"] == pk and key["SK"].startswith(keys.PHOTO)
    )
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = table().query(**kwargs)
    return page["Items"], pagination.encode(page.get("LastEvaluatedKey"))


def new_photo(
    user_id: str, album_id: str, photo_id: str, created: str, **fields: Any
) -> dict[str, Any]:
    """An UPLOADING photo's item (not written yet: `put_photo`)."""
    return {
        **keys.photo_key(album_id, photo_id),
        "LSI1SK": created,
        "GSI1PK": keys.photo_status_index("UPLOADING"),
        "GSI1SK": created,
        "GSI2PK": keys.owner_index(user_id, album_id),
        "GSI2SK": keys.photo_sk(photo_id),
        "photoId": photo_id,
        "albumId": album_id,
        "userId": user_id,
        **fields,
        "status": "UPLOADING",
        "createdAt": created,
        "updatedAt": created,
    }


def put_photo(item: dict[str, Any]) -> None:
    """A new photo (UPLOADING), counted."""
    _counted({"Put": {"Item": item}}, item["albumId"], None, "UPLOADING")


def _counted(write: dict[str, Any], album_id: str, was: str | None, now: str) -> bool:
    """A photo's write and its album's counts by status moved with it, in one transaction;
    False when the write's condition did not hold (nothing written)."""
    name = get(AlbumEnv.TABLE)
    ((kind, op),) = write.items()
    items = [{kind: {"TableName": name, **op}}]
    if was != now:
        adds = {"#now": now, **({"#was": was} if was else {})}
        items.append(
            {
                "Update": {
                    "TableName": name,
                    "Key": keys.counts_key(album_id),
                    "UpdateExpression": "ADD #now :one" + (", #was :minus" if was else ""),
                    "ExpressionAttributeNames": adds,
                    "ExpressionAttributeValues": {":one": 1, **({":minus": -1} if was else {})},
                }
            }
        )
    try:
        table().meta.client.transact_write_items(TransactItems=items)
        return True
    except ClientError as err:
        reasons = [r.get("Code") for r in err.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return False
        raise


def counts(album_id: str) -> dict[str, int] | None:
    """The album's photos by status (None for an album made before they were counted)."""
    item = table().get_item(Key=keys.counts_key(album_id), ConsistentRead=True).get("Item")
    if not item or not item.get("complete"):
        return None
    return {s: int(item.get(s, 0)) for s in PHOTO_STATUSES}


def claim_digest(user_id: str, album_id: str, digest: str, photo_id: str) -> str:
    """The photo that owns `digest` in the album: `photo_id` if it claimed it now, else the one
    that claimed it first (conditional write: two concurrent claims agree)."""
    try:
        table().put_item(
            Item={**keys.sha256_key(album_id, digest), "photoId": photo_id, "userId": user_id},
            ConditionExpression="attribute_not_exists(PK)",
        )
        return photo_id
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    item = table().get_item(Key=keys.sha256_key(album_id, digest), ConsistentRead=True)["Item"]
    return item["photoId"]


def release_digest(album_id: str, digest: str) -> None:
    table().delete_item(Key=keys.sha256_key(album_id, digest))


def claim_photo(obj: keys.RawObject, raw_key: str, job_id: str) -> bool:
    """UPLOADING → PROCESSING for the photo this original belongs to; False when there is no such
    photo (a stray object), it is someone else's, or it was claimed already."""
    return to_processing(
        obj.album_id,
        obj.photo_id,
        job_id,
        was="UPLOADING",
        condition="#s = :uploading AND userId = :user AND rawKey = :key",
        values={":uploading": "UPLOADING", ":user": obj.user_id, ":key": raw_key},
        more="REMOVE uploadId",
    )


def to_processing(
    album_id: str,
    photo_id: str,
    job_id: str,
    *,
    was: str,
    condition: str,
    values: dict,
    more: str = "",
) -> bool:
    """The photo PROCESSING in `job_id` (status, job, times and the status index) if `condition`
    holds (`#s` is its status), with `more` of the update expression; False when it did not."""
    at = now_iso()
    update = {
        "Key": keys.photo_key(album_id, photo_id),
        "UpdateExpression": (
            "SET #s = :processing, jobId = :job, updatedAt = :at, GSI1PK = :gsi, GSI1SK = :at "
            + more
        ),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":processing": "PROCESSING",
            ":job": job_id,
            ":at": at,
            ":gsi": keys.photo_status_index("PROCESSING"),
            **values,
        },
    }
    return _counted({"Update": update}, album_id, was, "PROCESSING")


def refuse_upload(obj: keys.RawObject, raw_key: str, error: dict[str, str]) -> bool:
    """UPLOADING → FAILED with `error`, for an upload never to be processed; returns False (no
    photo claimed)."""
    at = now_iso()
    update = {
        "Key": keys.photo_key(obj.album_id, obj.photo_id),
        "UpdateExpression": "SET #s = :failed, #e = :error, updatedAt = :at, GSI1PK = :gsi, "
        "GSI1SK = :at REMOVE uploadId",
        "ConditionExpression": "#s = :uploading AND userId = :user AND rawKey = :key",
        "ExpressionAttributeNames": {"#s": "status", "#e": "error"},
        "ExpressionAttributeValues": {
            ":failed": "FAILED",
            ":error": error,
            ":uploading": "UPLOADING",
            ":at": at,
            ":gsi": keys.photo_status_index("FAILED"),
            ":user": obj.user_id,
            ":key": raw_key,
        },
    }
    _counted({"Update": update}, obj.album_id, "UPLOADING", "FAILED")
    return False


def set_photo(album_id: str, photo_id: str, job_id: str, status: str, **fields: Any) -> bool:
    """Move a photo of this job on from PROCESSING (a terminal status is never overwritten)."""
    at = now_iso()
    names = {"#s": "status", **{f"#{k}": k for k in fields}}
    values = {
        ":status": status,
        ":processing": "PROCESSING",
        ":job": job_id,
        ":at": at,
        ":gsi": keys.photo_status_index(status),
        **{f":{k}": v for k, v in fields.items()},
    }
    sets = ", ".join(
        ["#s = :status", "updatedAt = :at", "GSI1PK = :gsi", "GSI1SK = :at"]
        + [f"#{k} = :{k}" for k in fields]
    )
    update = {
        "Key": keys.photo_key(album_id, photo_id),
        "UpdateExpression": f"SET {sets}",
        "ConditionExpression": "#s = :processing AND jobId = :job",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    return _counted({"Update": update}, album_id, "PROCESSING", status)


def mark_purged(album_id: str, photo_id: str) -> None:
    """The photo's original was deleted (never recreates a deleted photo)."""
    conditional(
        table().update_item,
        Key=keys.photo_key(album_id, photo_id),
        UpdateExpression="SET originalPurged = :t",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":t": True},
    )


def photo_statuses(album_id: str, photo_ids: Iterable[str]) -> dict[str, str]:
    """photoId → status, for those of these photos that exist (a batch read, not a scan)."""
    return {p: i["status"] for p, i in photo_fields(album_id, photo_ids).items()}


def photo_fields(album_id: str, photo_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """photoId → {status, faceCount (once its faces are found)}, by key in batches."""
    wanted = [keys.photo_key(album_id, p) for p in sorted(set(photo_ids))]
    found = batch_get(wanted, "photoId, #s, faceCount", {"#s": "status"})
    return {i["photoId"]: i for i in found}
