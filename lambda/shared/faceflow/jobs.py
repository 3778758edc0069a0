"""Pipeline jobs: the starter groups newly uploaded photos into a job and starts the state
machine; each step writes the job's transitions (`JOB#` items) as they happen.

Idempotence: a photo is claimed for a job by one conditional write (UPLOADING → PROCESSING), so a
re-delivered S3 event finds it claimed and adds nothing; the execution is named after the job, so
starting it twice starts it once.

Uploads land under `incoming/` (faceflow.storage) and never stay there: the starter copies an
upload to its photo's raw key before claiming the photo, and then deletes it; an upload nothing
claims (its URL reused after the claim, its album deleted or its user erased meanwhile) is
deleted on arrival. So the original a job reads is the one claimed, and stays that one.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from faceflow import storage
from faceflow.album_env import AlbumEnv, get, get_int
from faceflow.albums import album_alive, album_items, new_id, now_iso, photo_key, table

# CANCELLED: its album was deleted while it ran (cancelled_when_album_gone); never shown.
JOB_STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


def job_key(album_id: str, job_id: str) -> dict[str, str]:
    return {"PK": f"ALBUM#{album_id}", "SK": f"JOB#{job_id}"}


def _conditional(func, *args, **kwargs) -> bool:
    """True if the conditional write happened, False if its condition did not hold."""
    try:
        func(*args, **kwargs)
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def claim_photo(obj: storage.RawObject, raw_key: str, job_id: str) -> bool:
    """UPLOADING → PROCESSING for the photo this original belongs to; False when there is no such
    photo (a stray object), it is someone else's, or it was claimed already."""
    return to_processing(
        obj.album_id,
        obj.photo_id,
        job_id,
        condition="#s = :uploading AND userId = :user AND rawKey = :key",
        values={":uploading": "UPLOADING", ":user": obj.user_id, ":key": raw_key},
        more="REMOVE uploadId",
    )


def to_processing(
    album_id: str, photo_id: str, job_id: str, *, condition: str, values: dict, more: str = ""
) -> bool:
    """The photo PROCESSING in `job_id` (status, job, times and the status index) if `condition`
    holds (`#s` is its status), with `more` of the update expression; False when it did not."""
    at = now_iso()
    return _conditional(
        table().update_item,
        Key=photo_key(album_id, photo_id),
        UpdateExpression=(
            "SET #s = :processing, jobId = :job, updatedAt = :at, GSI1PK = :gsi, GSI1SK = :at "
            + more
        ),
        ConditionExpression=condition,
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":processing": "PROCESSING",
            ":job": job_id,
            ":at": at,
            ":gsi": "STATUS#PROCESSING",
            **values,
        },
    )


def start_jobs(keys: list[str]) -> list[dict[str, Any]]:
    """One job per album for the photos these uploads (keys under `incoming/`) complete; returns
    the jobs.

    A photo already claimed (a duplicated event, or a retry after this function failed
    half-way) makes sure its own job exists and was started: the job item is rebuilt from its
    photos if it is missing, and the execution, named after the job, starts at most once.
    """
    jobs: dict[tuple[str, str, str], list[str]] = defaultdict(list)  # (user, album, job) → ids
    fresh: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys(keys):  # the same key twice in one batch: once
        obj = storage.parse_upload_key(key)
        if obj is None:
            continue
        job_id = fresh.setdefault((obj.user_id, obj.album_id), new_id())
        owner, claimed = receive_upload(obj, key, job_id)
        if claimed:
            jobs[(obj.user_id, obj.album_id, job_id)].append(obj.photo_id)
        elif owner:
            jobs.setdefault((obj.user_id, obj.album_id, owner), [])
    started = [start_job(*job, claimed) for job, claimed in jobs.items()]
    return [job for job in started if job is not None]


def receive_upload(obj: storage.RawObject, key: str, job_id: str) -> tuple[str | None, bool]:
    """One upload: (the job its photo belongs to, whether it was claimed for `job_id` now).

    An upload of a photo still UPLOADING, in a live album, is copied to the photo's raw key and
    the photo claimed. Then the upload is deleted, as is any upload nothing claims; an album
    deleted meanwhile loses the copy too (its deletion may have listed the prefix before)."""
    raw_key = storage.raw_key_of(key)
    photo = _photo_of(obj, raw_key)
    claimed = False
    if (
        photo is not None
        and photo["status"] == "UPLOADING"
        and album_alive(obj.user_id, obj.album_id)
    ):
        claimed = _take(obj, key, raw_key, job_id)
        if not album_alive(obj.user_id, obj.album_id):
            _delete_raw(raw_key)
            _delete_raw(key)
            return None, False
        photo = None if claimed else _photo_of(obj, raw_key)
    _delete_raw(key)
    if claimed:
        return job_id, True
    if photo is not None and photo["status"] == "PROCESSING":
        return photo["jobId"], False  # claimed before: its job must exist and be started
    return None, False


def _photo_of(obj: storage.RawObject, raw_key: str) -> dict[str, Any] | None:
    item = table().get_item(Key=photo_key(obj.album_id, obj.photo_id), ConsistentRead=True)
    item = item.get("Item")
    if item is None or item.get("userId") != obj.user_id or item.get("rawKey") != raw_key:
        return None
    return item


def _take(obj: storage.RawObject, upload: str, raw_key: str, job_id: str) -> bool:
    """The upload made the photo's original (copied to its raw key) and the photo claimed for
    the job; False when the upload is gone (a concurrent delivery moved it, an album deletion
    removed it) or too large: a client sent more than it declared, which fails the photo
    FILE_TOO_LARGE without copying a byte (a PUT URL does not bound the size)."""
    bucket, s3 = get(AlbumEnv.RAW_BUCKET), storage.s3()
    limit = get_int(AlbumEnv.MAX_PHOTO_BYTES)
    try:
        size = s3.head_object(Bucket=bucket, Key=upload)["ContentLength"]
        if size > limit:
            message = f"The file is {size} bytes; the limit is {limit} bytes."
            return _refuse(obj, raw_key, {"code": "FILE_TOO_LARGE", "message": message})
        s3.copy_object(Bucket=bucket, Key=raw_key, CopySource={"Bucket": bucket, "Key": upload})
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
            return False
        raise
    return claim_photo(obj, raw_key, job_id)


def _refuse(obj: storage.RawObject, raw_key: str, error: dict[str, str]) -> bool:
    """UPLOADING → FAILED with `error`, for an upload never to be processed; returns False (no
    photo claimed)."""
    at = now_iso()
    _conditional(
        table().update_item,
        Key=photo_key(obj.album_id, obj.photo_id),
        UpdateExpression="SET #s = :failed, #e = :error, updatedAt = :at, GSI1PK = :gsi, "
        "GSI1SK = :at REMOVE uploadId",
        ConditionExpression="#s = :uploading AND userId = :user AND rawKey = :key",
        ExpressionAttributeNames={"#s": "status", "#e": "error"},
        ExpressionAttributeValues={
            ":failed": "FAILED",
            ":error": error,
            ":uploading": "UPLOADING",
            ":at": at,
            ":gsi": "STATUS#FAILED",
            ":user": obj.user_id,
            ":key": raw_key,
        },
    )
    return False


def _delete_raw(key: str) -> None:
    storage.s3().delete_object(Bucket=get(AlbumEnv.RAW_BUCKET), Key=key)


def start_job(
    user_id: str, album_id: str, job_id: str, claimed: list[str]
) -> dict[str, Any] | None:
    """The job's item (made from `claimed`, or from its photos when empty) and its execution,
    each at most once."""
    item = table().get_item(Key=job_key(album_id, job_id), ConsistentRead=True).get("Item")
    if item is None:
        photo_ids = claimed or sorted(p["photoId"] for p in job_photos(album_id, job_id))
        at = now_iso()
        item = {
            **job_key(album_id, job_id),
            "LSI1SK": at,
            "GSI1PK": "JOBSTATUS#QUEUED",
            "GSI1SK": at,
            "GSI2PK": f"{user_id}#{album_id}",
            "GSI2SK": f"JOB#{job_id}",
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
        if not _conditional(
            table().put_item, Item=item, ConditionExpression="attribute_not_exists(PK)"
        ):
            item = table().get_item(Key=job_key(album_id, job_id), ConsistentRead=True)["Item"]
    if not album_alive(user_id, album_id):  # its deletion may have listed the album before
        table().delete_item(Key=job_key(album_id, job_id))
        return None
    job = {
        "albumId": album_id,
        "userId": user_id,
        "jobId": job_id,
        "photoIds": list(item["photoIds"]),
    }
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=get(AlbumEnv.STATE_MACHINE_ARN), name=job_id, input=json.dumps(job)
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
    return job


def advance(album_id: str, job_id: str, step: str) -> None:
    """The job is RUNNING `step` (a retried step writes the same again)."""
    at = now_iso()
    _conditional(
        table().update_item,
        Key=job_key(album_id, job_id),
        UpdateExpression="SET #s = :running, step = :step, updatedAt = :at, "
        "GSI1PK = :gsi, GSI1SK = :at",
        ConditionExpression="attribute_exists(PK) AND #s IN (:queued, :running)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":running": "RUNNING",
            ":queued": "QUEUED",
            ":step": step,
            ":at": at,
            ":gsi": "JOBSTATUS#RUNNING",
        },
    )


def job_photos(album_id: str, job_id: str) -> list[dict[str, Any]]:
    return [p for p in album_items(album_id, "PHOTO#") if p.get("jobId") == job_id]


def set_photo(album_id: str, photo_id: str, job_id: str, status: str, **fields: Any) -> bool:
    """Move a photo of this job on from PROCESSING (a terminal status is never overwritten)."""
    at = now_iso()
    names = {"#s": "status", **{f"#{k}": k for k in fields}}
    values = {
        ":status": status,
        ":processing": "PROCESSING",
        ":job": job_id,
        ":at": at,
        ":gsi": f"STATUS#{status}",
        **{f":{k}": v for k, v in fields.items()},
    }
    sets = ", ".join(
        ["#s = :status", "updatedAt = :at", "GSI1PK = :gsi", "GSI1SK = :at"]
        + [f"#{k} = :{k}" for k in fields]
    )
    return _conditional(
        table().update_item,
        Key=photo_key(album_id, photo_id),
        UpdateExpression=f"SET {sets}",
        ConditionExpression="#s = :processing AND jobId = :job",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def finish(album_id: str, job_id: str, status: str, error: dict[str, str] | None = None) -> bool:
    """RUNNING/QUEUED → SUCCEEDED, FAILED or CANCELLED, once."""
    at = now_iso()
    values: dict[str, Any] = {
        ":status": status,
        ":at": at,
        ":gsi": f"JOBSTATUS#{status}",
        ":queued": "QUEUED",
        ":running": "RUNNING",
    }
    update = "SET #s = :status, updatedAt = :at, GSI1PK = :gsi, GSI1SK = :at"
    if error:
        update += ", #e = :error"
        values[":error"] = error
    return _conditional(
        table().update_item,
        Key=job_key(album_id, job_id),
        UpdateExpression=update,
        ConditionExpression="attribute_exists(PK) AND #s IN (:queued, :running)",
        ExpressionAttributeNames={"#s": "status", **({"#e": "error"} if error else {})},
        ExpressionAttributeValues=values,
    )


Step = Callable[..., dict[str, Any]]


def cancelled_when_album_gone(step: Step) -> Step:
    """A pipeline step's handler that ends as a no-op when its album was deleted (or its user
    erased) before or while it ran: the user's deletion is no failure of the job, so the
    execution goes on through the other steps (each such a no-op) and succeeds, and the failed
    executions alarm keeps meaning something failed. Whatever the step raised then (the
    deletion took the objects it was reading) is dropped. The job is CANCELLED until the
    deletion removes its item (no API answer shows it: the album is "not found" throughout)."""

    @functools.wraps(step)
    def run(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        user_id, album_id = event["userId"], event["albumId"]
        if album_alive(user_id, album_id):
            try:
                return step(event, context)
            except Exception:
                if album_alive(user_id, album_id):
                    raise
        finish(album_id, event["jobId"], "CANCELLED")  # if the deletion has not removed it yet
        return {**event, "cancelled": True}

    return run
