"""The share exporter: one ZIP of a share's photos, then each photo for its own URL, then the
recipients' emails. The share goes BUILDING → READY, or FAILED with a reason.

Bounded memory, whatever the share's size: each original is read from S3 in READ_CHUNK pieces
and written into a `zipfile` (faceflow.domain.archive) whose file object is an S3 multipart upload
(faceflow.storage.exports.MultipartWriter): at most one part (`SHARE_PART_SIZE_BYTES`) is
buffered. The photos are stored, not deflated: each file in the ZIP is its copy byte for byte.

Only what was uploaded is shipped: each original is first copied to the share's own photo key,
and the ZIP is written from those copies, each checked against the SHA-256 ProcessPhoto recorded
(a mismatch fails the share ORIGINAL_CHANGED): the archive and the photo URLs serve exactly
the bytes that were checked. Unless the share keeps the location (`keepLocation`), each copy is
the original with its location removed (faceflow.domain.location: a metadata edit, the pixels
untouched): the original is checked before the edit, the copy's own digest after it. A photo
whose metadata cannot be edited safely fails the share LOCATION_NOT_REMOVED rather than ship it.
(No client can replace an original, faceflow.edge.starter; this is the check of last resort.)

Idempotent under SQS's at-least-once delivery: a build holds a lease on the share (one
conditional write), so a duplicated message never builds twice at once; the archive appears only
when its multipart upload completes (S3 swaps the object whole), so a retried build replaces an
earlier one and never leaves a half-written archive; READY is written only by the lease's holder
while the share is still BUILDING; emails are recorded per recipient (`notified`), so a retry
sends only the missing ones. A share revoked meanwhile keeps nothing the build wrote.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from common.observability import logger
from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.archive import safe_name, unique_names
from faceflow.domain.errors import ExportFailed
from faceflow.domain.ids import epoch, new_id
from faceflow.domain.shares import keeps_location, status_of
from faceflow.edge import share_mail
from faceflow.storage import exports, keys, objects, shares, signing_keys
from faceflow.storage.albums import album_alive

LEASE_S = 16 * 60  # longer than the exporter's timeout: a crashed build's lease runs out
COPY_THREADS = 8


class ExportBusy(RuntimeError):
    """Another build holds the share's lease: the message is retried later."""


@dataclass(frozen=True)
class Archive:
    size: int
    files: int


def build(item: dict[str, Any]) -> Archive:
    """The photos' own copies, the archive written from them, and the manifest of a share's
    objects."""
    user, album, share = item["userId"], item["albumId"], item["shareId"]
    photos = exports.load_photos(user, album, list(item["photoIds"]))
    names = unique_names([safe_name(p.file_name, p.extension) for p in photos])
    s3, raw, bucket = objects.s3(), get(AlbumEnv.RAW_BUCKET), get(AlbumEnv.EXPORTS_BUCKET)
    entries = [
        {
            "photoId": photo.photo_id,
            "fileName": name,
            "key": keys.shared_photo_key(user, album, share, photo.photo_id, photo.extension),
        }
        for photo, name in zip(photos, names, strict=True)
    ]
    copy = exports.copy_photo if keeps_location(item) else exports.copy_without_location
    with ThreadPoolExecutor(COPY_THREADS) as pool:
        copies = [
            pool.submit(copy, s3, raw, bucket, p, e) for p, e in zip(photos, entries, strict=True)
        ]
        photos = [c.result() for c in copies]  # each with the digest of the bytes it shipped
    out = exports.open_archive(s3, item)
    try:
        size = exports.write_archive(s3, bucket, [e["key"] for e in entries], photos, names, out)
    except BaseException:
        out.abort()
        raise
    exports.put_manifest(s3, item, entries)
    return Archive(size, len(photos))


# ---------------------------------------------------------------- one export request


def export(user_id: str, album_id: str, share_id: str, *, final_attempt: bool = False) -> str:
    """Handle one export request; returns the share's status afterwards. Transient errors are
    raised (the message is retried) except on the final attempt, which ends the share FAILED."""
    item = shares.load(album_id, share_id)
    if item is None or item.get("userId") != user_id:
        return "GONE"  # the album (or user) was deleted meanwhile
    if item["status"] == "READY":
        notify(item)  # a retry after some emails went out
        return "READY"
    if item["status"] != "BUILDING":
        return item["status"]
    token = _claim(album_id, share_id)
    try:
        archive = build(item)
    except Exception as err:
        ended = _ended_meanwhile(item)
        if ended:  # what the build was reading went with the album (or share): no failure
            shares.delete_objects(item)
            return ended
        if isinstance(err, ExportFailed):
            return _failed(item, err.code, err.message)
        if final_attempt:
            return _failed(item, "EXPORT_FAILED", "The archive could not be built.")
        _release(album_id, share_id, token)
        raise
    ready = shares.transition(
        album_id,
        share_id,
        "SET #s = :ready, readyAt = :at, updatedAt = :at, archiveBytes = :bytes, "
        "fileCount = :files REMOVE buildToken, buildUntil",
        {":ready": "READY", ":bytes": archive.size, ":files": archive.files, ":token": token},
        condition="#s = :building AND buildToken = :token",
    )
    if not ready:  # revoked (or failed by a final attempt) while this build ran
        shares.delete_objects(item)
        return (shares.load(album_id, share_id) or {"status": "GONE"})["status"]
    notify(shares.load(album_id, share_id) or item)
    return "READY"


def _ended_meanwhile(item: dict[str, Any]) -> str | None:
    """GONE when the share's album was deleted (or its user erased) while the build ran, the
    share's status when it was revoked meanwhile; None while the share still wants its build."""
    if not album_alive(item["userId"], item["albumId"]):
        return "GONE"
    now = shares.load(item["albumId"], item["shareId"])
    if now is None:
        return "GONE"
    return None if now["status"] == "BUILDING" else now["status"]


def _claim(album_id: str, share_id: str) -> str:
    token, now = new_id(), int(time.time())
    claimed = shares.transition(
        album_id,
        share_id,
        "SET buildToken = :token, buildUntil = :until, updatedAt = :at",
        {":token": token, ":until": now + LEASE_S, ":now": now},
        condition="#s = :building AND (attribute_not_exists(buildUntil) OR buildUntil < :now)",
    )
    if not claimed:
        raise ExportBusy(f"share {share_id} is being built by another worker")
    return token


def _release(album_id: str, share_id: str, token: str) -> None:
    shares.transition(
        album_id,
        share_id,
        "REMOVE buildToken, buildUntil",
        {":token": token},
        condition="#s = :building AND buildToken = :token",
    )


def _failed(item: dict[str, Any], code: str, message: str) -> str:
    shares.fail(item["albumId"], item["shareId"], code, message)
    shares.delete_objects(item)
    return "FAILED"


def notify(item: dict[str, Any]) -> list[str]:
    """Email every recipient not emailed yet, while the share is READY and unexpired."""
    if status_of(item) != "READY":
        return []
    url = signing_keys.signer().url(
        keys.archive_key(item["userId"], item["albumId"], item["shareId"]),
        epoch(item["expiresAt"]),
    )
    return share_mail.send_all(item, url)


def export_requests(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of export requests → each share's status afterwards. A request's last
    receive (SHARE_EXPORT_ATTEMPTS) is its final attempt."""
    attempts = get_int(AlbumEnv.SHARE_EXPORT_ATTEMPTS)
    results = {}
    for record in event.get("Records", []):
        request = json.loads(record["body"])
        received = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        status = export(
            request["userId"],
            request["albumId"],
            request["shareId"],
            final_attempt=received >= attempts,
        )
        logger.info("share exported", extra={"shareId": request["shareId"], "status": status})
        results[request["shareId"]] = status
    return {"shares": results}
