"""The state machine's steps, one function each (their Lambda handlers only call these).

Every step is idempotent per photo: it acts only on photos of its own job still PROCESSING, with
conditional writes, so a retried task or a re-run execution never does anything twice. Hostile
files end their photo FAILED with a reason and the job goes on; errors worth retrying are raised
as TransientStepError, the name the state machine's Retry matches; anything else fails the task
and (after the Catch) the job.
"""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from PIL import Image

from common.aws import is_transient
from faceflow.config import AlbumEnv, get
from faceflow.domain.dedupe import PhotoFaces, PhotoFacts, find_duplicates, kept_apart
from faceflow.storage import albums, jobs, messages, objects, photos
from faceflow.storage.albums import album_alive
from faceflow.storage.faces import face_items, get_vectors
from faceflow.storage.photos import claim_digest
from faceflow.storage.table import plain

# The states of the ASL definition (stacks/albums/pipeline.py names its tasks after these).
# Dedupe runs after the faces are known: two photos whose faces differ are never duplicates.
STEPS = ("ProcessPhoto", "Dedupe", "Cluster", "Notify")  # (photo_steps, face_steps)


# How long Dedupe waits for earlier jobs' photos to be read (their ProcessPhoto: seconds).
EARLIER_JOBS_WAIT_SECONDS = 60


class TransientStepError(RuntimeError):
    """Worth retrying (throttling, a 5xx): the state machine retries it with backoff."""


def _aws_call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ClientError as err:
        if is_transient(err):
            raise TransientStepError(str(err)) from err
        raise


def dedupe(event: dict[str, Any]) -> dict[str, Any]:
    """Exact copies by SHA-256 (the first photo to claim a digest keeps it), then near copies
    among the album's photos by faceflow.domain.dedupe (pHash candidates confirmed by their faces
    and by SSIM over the thumbnails' content): this job's photos that are copies become DUPLICATE of
    the kept one. Photos of earlier jobs keep their status (a later, larger copy does not demote
    them); pairs a user said are not duplicates (`notDuplicateOf`) are never joined again."""
    album_id, job_id, user_id = event["albumId"], event["jobId"], event["userId"]
    jobs.advance(album_id, job_id, "Dedupe")
    duplicates = 0
    read = [p for p in _once_earlier_read(album_id, job_id) if p.get("pHash") and p.get("thumbKey")]
    apart = kept_apart(read)  # pairs a user said are not duplicates
    mine = [p for p in read if p.get("jobId") == job_id and p["status"] == "PROCESSING"]
    for photo in mine:
        owner = claim_digest(user_id, album_id, photo["sha256"], photo["photoId"])
        if owner == photo["photoId"] or frozenset((owner, photo["photoId"])) in apart:
            continue
        if photos.set_photo(album_id, photo["photoId"], job_id, "DUPLICATE", duplicateOf=owner):
            duplicates += 1
        photo["status"] = "DUPLICATE"
    fresh = {p["photoId"] for p in mine if p["status"] == "PROCESSING"}
    candidates = [p for p in read if p["status"] in ("PROCESSING", "PROCESSED")]
    facts = [
        PhotoFacts(
            p["photoId"],
            p["sha256"],
            p["pHash"],
            int(p["width"]),
            int(p["height"]),
            int(p.get("faceCount", 0)),
            order,
        )
        for order, p in enumerate(candidates)  # photo ids sort in upload order
    ]
    by_id = {p["photoId"]: p for p in candidates}
    if not album_alive(user_id, album_id):  # deleted meanwhile: the claims above go too
        for photo in mine:
            photos.release_digest(album_id, photo["sha256"])
        return {**_job(event), "duplicates": 0}
    found = find_duplicates(
        facts,
        lambda photo_id: _thumbnail(by_id[photo_id]["thumbKey"]),
        faces=lambda photo_id: _photo_faces(album_id, by_id[photo_id]),
        new=fresh,
        kept_apart=apart,
    )
    for photo_id, kept in found.duplicate_of.items():
        if photo_id in fresh and photos.set_photo(
            album_id, photo_id, job_id, "DUPLICATE", duplicateOf=kept
        ):
            duplicates += 1
    return {**_job(event), "duplicates": duplicates}


def _once_earlier_read(album_id: str, job_id: str) -> list[dict[str, Any]]:
    """The album's photos, once every photo of an earlier job has been read (ProcessPhoto), or
    after EARLIER_JOBS_WAIT_SECONDS. An original and its copy uploaded moments apart can land
    in two jobs running side by side: only the later job may mark its own photo DUPLICATE, so it
    must see the earlier one; the earlier job never waits for a later one. While it waits it
    reads only what the wait asks (a job waiting on a large album reads every second)."""
    deadline = time.monotonic() + EARLIER_JOBS_WAIT_SECONDS
    found = list(photos.album_photos(album_id))
    if not _earlier_unread(found, job_id):
        return found
    while time.monotonic() < deadline:
        time.sleep(1.0)
        if not _earlier_unread(list(photos.album_photos(album_id, _WAITED_ON)), job_id):
            break
    return list(photos.album_photos(album_id))


_WAITED_ON = ("photoId", "status", "jobId", "pHash")


def _earlier_unread(found: list[dict[str, Any]], job_id: str) -> bool:
    return any(
        p["status"] == "PROCESSING" and p.get("jobId", job_id) < job_id and not p.get("pHash")
        for p in found
    )


def _thumbnail(key: str) -> np.ndarray:
    body = _aws_call(objects.s3().get_object, Bucket=get(AlbumEnv.DERIVED_BUCKET), Key=key)
    with Image.open(io.BytesIO(body["Body"].read())) as image:
        return np.asarray(image.convert("RGB"))


def _photo_faces(album_id: str, photo: dict[str, Any]) -> PhotoFaces | None:
    """The faces ProcessPhoto recorded for a photo, or None when they are not all known
    (a photo of an older album, ingested before faces were found first): pixels decide then."""
    if "faceCount" not in photo:
        return None
    items = sorted(face_items(album_id, photo["photoId"]), key=lambda f: int(f["faceIndex"]))
    if not items:
        return PhotoFaces.none()
    keys = {f.get("embeddingKey") for f in items}
    if None in keys or len(keys) != 1 or len(items) != int(photo["faceCount"]):
        return None
    vectors = _aws_call(get_vectors, keys.pop())
    return PhotoFaces(
        boxes=np.array([[float(v) for v in f["box"]] for f in items]),
        landmarks=np.array([[[float(x), float(y)] for x, y in f["landmarks"]] for f in items]),
        vectors=vectors[[int(f["embeddingRow"]) for f in items]],
        unsure=np.array([bool(f.get("lowQuality")) for f in items]),
    )


def notify(event: dict[str, Any]) -> dict[str, Any]:
    """The job's photos still PROCESSING are PROCESSED; with the album's purgeOriginals their
    originals (and those of duplicates) are deleted; the notify topic hears of it; the job
    SUCCEEDED (last, so a failed publish is retried before the job is closed)."""
    album_id, job_id = event["albumId"], event["jobId"]
    jobs.advance(album_id, job_id, "Notify")
    album = _aws_call(albums.album_item, event["userId"], album_id)
    purge = bool(album and album.get("purgeOriginals"))
    counts: dict[str, int] = {}
    for photo in jobs.job_photos(album_id, job_id):
        status = photo["status"]
        if status == "PROCESSING" and photos.set_photo(
            album_id, photo["photoId"], job_id, "PROCESSED"
        ):
            status = "PROCESSED"
        if purge and status in ("PROCESSED", "DUPLICATE") and photo.get("rawKey"):
            _purge_original(album_id, photo)
        counts[status] = counts.get(status, 0) + 1
    message = {"albumId": album_id, "jobId": job_id, "status": "SUCCEEDED", "photos": counts}
    _aws_call(messages.publish_job_finished, message)
    jobs.finish(album_id, job_id, "SUCCEEDED")
    return message


def _purge_original(album_id: str, photo: dict[str, Any]) -> None:
    """The original goes; the thumbnail, crops and vectors stay (deleting twice is harmless)."""
    _aws_call(objects.delete, AlbumEnv.RAW_BUCKET, photo["rawKey"])
    _aws_call(photos.mark_purged, album_id, photo["photoId"])


def failure_reason(error: dict[str, Any] | None) -> dict[str, str]:
    """The Catch's {"Error", "Cause"} as the job's error: the Lambda's own message if any."""
    error = error or {}
    code = str(error.get("Error") or "States.TaskFailed")
    cause = str(error.get("Cause") or "")
    try:
        message = json.loads(cause).get("errorMessage") or cause
    except (ValueError, AttributeError):
        message = cause
    return {"code": code, "message": (message or code)[:1000]}


def fail_job(event: dict[str, Any]) -> dict[str, Any]:
    """The Catch of every task: the job FAILED with the reason, its unfinished photos FAILED too
    (so the album is IDLE again and the user sees why)."""
    album_id, job_id = event["albumId"], event["jobId"]
    reason = failure_reason(event.get("error"))
    photo_error = {"code": "JOB_FAILED", "message": f"Processing stopped: {reason['message']}"}
    for photo in jobs.job_photos(album_id, job_id):
        if photo["status"] == "PROCESSING":
            photos.set_photo(album_id, photo["photoId"], job_id, "FAILED", error=photo_error)
    jobs.finish(album_id, job_id, "FAILED", reason)
    return plain({**_job(event), "error": reason})


def _job(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event[k] for k in ("albumId", "userId", "jobId", "photoIds")}


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
        jobs.finish(album_id, event["jobId"], "CANCELLED")  # if the deletion has not removed it yet
        return {**event, "cancelled": True}

    return run
