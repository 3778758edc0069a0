"""Pipeline job items (PK=ALBUM#{albumId} SK=JOB#{jobId}): made once, moved QUEUED → RUNNING →
SUCCEEDED, FAILED or CANCELLED by conditional writes (a retried step writes the same again)."""

from __future__ import annotations

from typing import Any

from faceflow.domain.ids import now_iso
from faceflow.storage import keys
from faceflow.storage.photos import album_photos
from faceflow.storage.table import Key, conditional, table


def job_item(album_id: str, job_id: str) -> dict[str, Any] | None:
    return table().get_item(Key=keys.job_key(album_id, job_id), ConsistentRead=True).get("Item")


def put_job(user_id: str, album_id: str, job_id: str, photo_ids: list[str]) -> dict[str, Any]:
    """The QUEUED job's item, written once: the item stored (an earlier writer's if there is)."""
    at = now_iso()
    item = {
        **keys.job_key(album_id, job_id),
        "LSI1SK": at,
        "GSI1PK": keys.job_status_index("QUEUED"),
        "GSI1SK": at,
        "GSI2PK": keys.owner_index(user_id, album_id),
        "GSI2SK": keys.job_sk(job_id),
        "jobId": job_id,
        "albumId": album_id,
        "userId": user_id,
        "status": "QUEUED",
        "step": "Queued",
        "photoIds": photo_ids,
        "photoCount": len(photo_ids),
        "createdAt": at,
        "updatedAt": at,
    }
    if not conditional(table().put_item, Item=item, ConditionExpression="attribute_not_exists(PK)"):
        item = table().get_item(Key=keys.job_key(album_id, job_id), ConsistentRead=True)["Item"]
    return item


def delete_job(album_id: str, job_id: str) -> None:
    table().delete_item(Key=keys.job_key(album_id, job_id))


# What the callers of job_photos read (Notify, FailJob, the starter): a photo item carries its
# facts (hashes, EXIF, sizes) too, read by the album's every job otherwise.
JOB_PHOTO_FIELDS = ("photoId", "jobId", "status", "rawKey")


def job_photos(album_id: str, job_id: str) -> list[dict[str, Any]]:
    """The job's photos: JOB_PHOTO_FIELDS of each."""
    return [p for p in album_photos(album_id, JOB_PHOTO_FIELDS) if p.get("jobId") == job_id]


def advance(album_id: str, job_id: str, step: str) -> None:
    """The job is RUNNING `step` (a retried step writes the same again)."""
    at = now_iso()
    conditional(
        table().update_item,
        Key=keys.job_key(album_id, job_id),
        UpdateExpression="SET #s = :running, step = :step, updatedAt = :at, "
        "GSI1PK = :gsi, GSI1SK = :at",
        ConditionExpression="attribute_exists(PK) AND #s IN (:queued, :running)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":running": "RUNNING",
            ":queued": "QUEUED",
            ":step": step,
            ":at": at,
            ":gsi": keys.job_status_index("RUNNING"),
        },
    )


def finish(album_id: str, job_id: str, status: str, error: dict[str, str] | None = None) -> bool:
    """RUNNING/QUEUED → SUCCEEDED, FAILED or CANCELLED, once."""
    at = now_iso()
    values: dict[str, Any] = {
        ":status": status,
        ":at": at,
        ":gsi": keys.job_status_index(status),
        ":queued": "QUEUED",
        ":running": "RUNNING",
    }
    update = "SET #s = :status, updatedAt = :at, GSI1PK = :gsi, GSI1SK = :at"
    if error:
        update += ", #e = :error"
        values[":error"] = error
    return conditional(
        table().update_item,
        Key=keys.job_key(album_id, job_id),
        UpdateExpression=update,
        ConditionExpression="attribute_exists(PK) AND #s IN (:queued, :running)",
        ExpressionAttributeNames={"#s": "status", **({"#e": "error"} if error else {})},
        ExpressionAttributeValues=values,
    )


def latest_jobs(album_id: str, limit: int) -> list[dict[str, Any]]:
    """The album's latest jobs, newest first (job ids sort by time)."""
    condition = Key("PK").eq(keys.album_pk(album_id)) & Key("SK").begins_with(keys.JOB)
    return table().query(
        KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit, ConsistentRead=True
    )["Items"]
