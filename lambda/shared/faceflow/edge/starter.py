"""The pipeline's starter: newly uploaded photos grouped into a job (one per album), each job's
item written and its state machine execution started.

Idempotence: a photo is claimed for a job by one conditional write (UPLOADING → PROCESSING), so a
re-delivered S3 event finds it claimed and adds nothing; the execution is named after the job, so
starting it twice starts it once.

Uploads land under `incoming/` (faceflow.storage.keys) and never stay there: the starter copies an
upload to its photo's raw key before claiming the photo, and then deletes it; an upload nothing
claims (its URL reused after the claim, its album deleted or its user erased meanwhile) is
deleted on arrival. So the original a job reads is the one claimed, and stays that one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import unquote_plus

from faceflow.config import AlbumEnv, get_int
from faceflow.domain.ids import new_id
from faceflow.storage import jobs, keys, messages, photos, uploads
from faceflow.storage.albums import album_alive


def start_jobs(keys_: list[str]) -> list[dict[str, Any]]:
    """One job per album for the photos these uploads (keys under `incoming/`) complete; returns
    the jobs.

    A photo already claimed (a duplicated event, or a retry after this function failed
    half-way) makes sure its own job exists and was started: the job item is rebuilt from its
    photos if it is missing, and the execution, named after the job, starts at most once.
    """
    found: dict[tuple[str, str, str], list[str]] = defaultdict(list)  # (user, album, job) → ids
    fresh: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys(keys_):  # the same key twice in one batch: once
        obj = keys.parse_upload_key(key)
        if obj is None:
            continue
        job_id = fresh.setdefault((obj.user_id, obj.album_id), new_id())
        owner, claimed = receive_upload(obj, key, job_id)
        if claimed:
            found[(obj.user_id, obj.album_id, job_id)].append(obj.photo_id)
        elif owner:
            found.setdefault((obj.user_id, obj.album_id, owner), [])
    started = [start_job(*job, claimed) for job, claimed in found.items()]
    return [job for job in started if job is not None]


def receive_upload(obj: keys.RawObject, key: str, job_id: str) -> tuple[str | None, bool]:
    """One upload: (the job its photo belongs to, whether it was claimed for `job_id` now).

    An upload of a photo still UPLOADING, in a live album, is copied to the photo's raw key and
    the photo claimed. Then the upload is deleted, as is any upload nothing claims; an album
    deleted meanwhile loses the copy too (its deletion may have listed the prefix before)."""
    raw_key = keys.raw_key_of(key)
    photo = _photo_of(obj, raw_key)
    claimed = False
    if (
        photo is not None
        and photo["status"] == "UPLOADING"
        and album_alive(obj.user_id, obj.album_id)
    ):
        claimed = _take(obj, key, raw_key, job_id)
        if not album_alive(obj.user_id, obj.album_id):
            uploads.delete_raw(raw_key)
            uploads.delete_raw(key)
            return None, False
        photo = None if claimed else _photo_of(obj, raw_key)
    uploads.delete_raw(key)
    if claimed:
        return job_id, True
    if photo is not None and photo["status"] == "PROCESSING":
        return photo["jobId"], False  # claimed before: its job must exist and be started
    return None, False


def _photo_of(obj: keys.RawObject, raw_key: str) -> dict[str, Any] | None:
    item = photos.photo_item(obj.album_id, obj.photo_id)
    if item is None or item.get("userId") != obj.user_id or item.get("rawKey") != raw_key:
        return None
    return item


def _take(obj: keys.RawObject, upload: str, raw_key: str, job_id: str) -> bool:
    """The upload made the photo's original (copied to its raw key) and the photo claimed for
    the job; False when the upload is gone (a concurrent delivery moved it, an album deletion
    removed it) or too large: a client sent more than it declared, which fails the photo
    FILE_TOO_LARGE without copying a byte (a PUT URL does not bound the size)."""
    limit = get_int(AlbumEnv.MAX_PHOTO_BYTES)
    size = uploads.upload_size(upload)
    if size is None:
        return False
    if size > limit:
        message = f"The file is {size} bytes; the limit is {limit} bytes."
        return photos.refuse_upload(obj, raw_key, {"code": "FILE_TOO_LARGE", "message": message})
    if not uploads.move_to_original(upload, raw_key):
        return False
    return photos.claim_photo(obj, raw_key, job_id)


def start_job(
    user_id: str, album_id: str, job_id: str, claimed: list[str]
) -> dict[str, Any] | None:
    """The job's item (made from `claimed`, or from its photos when empty) and its execution,
    each at most once."""
    item = jobs.job_item(album_id, job_id)
    if item is None:
        photo_ids = claimed or sorted(p["photoId"] for p in jobs.job_photos(album_id, job_id))
        item = jobs.put_job(user_id, album_id, job_id, photo_ids)
    if not album_alive(user_id, album_id):  # its deletion may have listed the album before
        jobs.delete_job(album_id, job_id)
        return None
    job = {
        "albumId": album_id,
        "userId": user_id,
        "jobId": job_id,
        "photoIds": list(item["photoIds"]),
    }
    messages.start_pipeline(job)
    return job


def start_from_queue(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of S3 ObjectCreated notifications → the jobs started (their ids)."""
    found = []
    for record in event.get("Records", []):
        body = json.loads(record["body"])
        for s3_record in body.get("Records", []):  # S3's test event has none
            found.append(unquote_plus(s3_record["s3"]["object"]["key"]))
    return {"jobs": [j["jobId"] for j in start_jobs(found)]}
