"""The share exporter: one ZIP of a share's photos, then each photo for its own URL, then the
recipients' emails. The share goes BUILDING → READY, or FAILED with a reason.

Bounded memory, whatever the share's size: each original is read from S3 in READ_CHUNK pieces
and written into a `zipfile` whose file object is an S3 multipart upload (MultipartWriter): at
most one part (`SHARE_PART_SIZE_BYTES`) is buffered. The photos are stored, not deflated (JPEG,
PNG and WebP are compressed already): each file in the ZIP is its original byte for byte.
`zipfile` on an unseekable stream writes each entry's sizes and CRC after its data (a data
descriptor) and switches to ZIP64 records where sizes need them.

Only what was uploaded is shipped: each original is first copied to the share's own photo key,
and the ZIP is written from those copies, each checked against the SHA-256 ExtractEXIF recorded
(a mismatch fails the share ORIGINAL_CHANGED): the archive and the photo URLs serve exactly
the bytes that were checked. (No client can replace an original, faceflow.jobs; this is the
check of last resort.)

Idempotent under SQS's at-least-once delivery: a build holds a lease on the share (one
conditional write), so a duplicated message never builds twice at once; the archive appears only
when its multipart upload completes (S3 swaps the object whole), so a retried build replaces an
earlier one and never leaves a half-written archive; READY is written only by the lease's holder
while the share is still BUILDING; emails are recorded per recipient (`notified`), so a retry
sends only the missing ones. A share revoked meanwhile keeps nothing the build wrote.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from faceflow import share_mail, sharing, storage
from faceflow.album_env import AlbumEnv, get, get_int
from faceflow.albums import album_alive, album_items, new_id

READ_CHUNK = 1024 * 1024
LEASE_S = 16 * 60  # longer than the exporter's timeout: a crashed build's lease runs out
COPY_THREADS = 8
MAX_NAME = 100  # characters of a file name in the ZIP, extension included
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class ExportBusy(RuntimeError):
    """Another build holds the share's lease: the message is retried later."""


class ExportFailed(Exception):
    """Permanent: the share ends FAILED with this reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ---------------------------------------------------------------- file names


def safe_name(file_name: str, extension: str) -> str:
    """A file name any unzip tool extracts in place: the last path segment only, no control or
    reserved characters, no leading dots, not a Windows device name, at most MAX_NAME
    characters, ending in the photo's real extension."""
    name = unicodedata.normalize("NFC", file_name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE.sub("_", name).strip(" .")
    stem = PurePosixPath(name).stem if "." in name else name
    stem = stem.strip(" .") or "photo"
    if _RESERVED.match(stem):
        stem = f"_{stem}"
    return f"{stem[: MAX_NAME - len(extension) - 1].rstrip(' .') or 'photo'}.{extension}"


def unique_names(names: list[str]) -> list[str]:
    """`a.jpg`, `a (2).jpg`, `a (3).jpg`…: unique ignoring case (case-insensitive file
    systems would overwrite one with the other)."""
    taken: set[str] = set()
    result = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = f"{stem[: MAX_NAME - len(ext) - len(suffix) - 1]}{suffix}{dot}{ext}"
        taken.add(candidate.lower())
        result.append(candidate)
    return result


# ---------------------------------------------------------------- the multipart stream


class MultipartWriter(io.RawIOBase):
    """A write-only, unseekable file whose bytes become an S3 multipart upload, one part per
    `part_size` bytes (the last one shorter). Nothing is visible at the key before `complete`."""

    def __init__(self, s3: Any, bucket: str, key: str, part_size: int, **create: Any):
        super().__init__()
        self.s3, self.bucket, self.key, self.part_size = s3, bucket, key, part_size
        self.upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
        self.parts: list[dict[str, Any]] = []
        self.position = 0
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self.position += len(view)
        while len(self._buffer) >= self.part_size:
            self._upload(self.part_size)
        return len(view)

    def _upload(self, size: int) -> None:
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        number = len(self.parts) + 1
        answer = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=chunk
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> int:
        if self._buffer or not self.parts:
            self._upload(len(self._buffer))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        return self.position

    def abort(self) -> None:
        try:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
        except ClientError as err:  # aborted already (the album's deletion aborts its uploads)
            if err.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
                raise


# ---------------------------------------------------------------- the photos


@dataclass(frozen=True)
class Photo:
    photo_id: str
    file_name: str
    raw_key: str
    content_type: str
    taken: tuple[int, int, int, int, int, int]
    sha256: str | None = None  # of the original, recorded by ExtractEXIF

    @property
    def extension(self) -> str:
        return storage.EXTENSIONS.get(self.content_type) or self.raw_key.rsplit(".", 1)[-1]


_PHOTO_FIELDS = (
    "photoId",
    "fileName",
    "rawKey",
    "contentType",
    "takenAt",
    "createdAt",
    "userId",
    "sha256",
)


def load_photos(user_id: str, album_id: str, photo_ids: list[str]) -> list[Photo]:
    """The share's photos in its order, read page by page (only the chosen ones are kept)."""
    wanted = set(photo_ids)
    found: dict[str, Photo] = {}
    for item in album_items(album_id, "PHOTO#", _PHOTO_FIELDS):
        if item["photoId"] in wanted and item.get("userId") == user_id:
            found[item["photoId"]] = Photo(
                item["photoId"],
                item["fileName"],
                item["rawKey"],
                item["contentType"],
                _zip_time(item.get("takenAt") or item["createdAt"]),
                item.get("sha256"),
            )
    missing = [p for p in photo_ids if p not in found]
    if missing:
        raise ExportFailed("PHOTO_MISSING", f"{len(missing)} shared photos were deleted.")
    return [found[p] for p in photo_ids]


def _zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return _ZIP_EPOCH
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    return stamp if 1980 <= at.year <= 2107 else _ZIP_EPOCH  # what a ZIP date can hold


# ---------------------------------------------------------------- the build


@dataclass(frozen=True)
class Archive:
    size: int
    files: int


def write_archive(
    s3: Any,
    bucket: str,
    keys: list[str],
    photos: list[Photo],
    names: list[str],
    out: MultipartWriter,
) -> int:
    """Every photo (its copy at `keys`, in `bucket`), stored, into the ZIP on `out`, each
    checked against its recorded digest; returns the archive's size."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, photo, name in zip(keys, photos, names, strict=True):
            body = s3.get_object(Bucket=bucket, Key=key)
            info = zipfile.ZipInfo(name, date_time=photo.taken)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = body["ContentLength"]
            info.external_attr = 0o644 << 16  # rw-r--r-- when extracted
            digest = hashlib.sha256()
            with archive.open(info, "w") as entry:
                for chunk in body["Body"].iter_chunks(READ_CHUNK):
                    digest.update(chunk)
                    entry.write(chunk)
            if photo.sha256 and digest.hexdigest() != photo.sha256:
                raise ExportFailed(
                    "ORIGINAL_CHANGED", f"The original of {name} is not the photo uploaded."
                )
    return out.complete()


def build(item: dict[str, Any]) -> Archive:
    """The photos' own copies, the archive written from them, and the manifest of a share's
    objects."""
    user, album, share = item["userId"], item["albumId"], item["shareId"]
    photos = load_photos(user, album, list(item["photoIds"]))
    names = unique_names([safe_name(p.file_name, p.extension) for p in photos])
    s3, raw, exports = storage.s3(), get(AlbumEnv.RAW_BUCKET), get(AlbumEnv.EXPORTS_BUCKET)
    entries = [
        {
            "photoId": photo.photo_id,
            "fileName": name,
            "key": storage.shared_photo_key(user, album, share, photo.photo_id, photo.extension),
        }
        for photo, name in zip(photos, names, strict=True)
    ]
    with ThreadPoolExecutor(COPY_THREADS) as pool:
        copies = [
            pool.submit(_copy, s3, raw, exports, p, e) for p, e in zip(photos, entries, strict=True)
        ]
        for copy in copies:
            copy.result()
    key = storage.archive_key(user, album, share)
    _abort_uploads(s3, exports, key)  # an earlier attempt's, if it died mid-way
    out = MultipartWriter(
        s3,
        exports,
        key,
        get_int(AlbumEnv.SHARE_PART_SIZE_BYTES),
        ContentType="application/zip",
        ContentDisposition=_attachment(f"{_archive_name(item)}.zip"),
    )
    try:
        size = write_archive(s3, exports, [e["key"] for e in entries], photos, names, out)
    except BaseException:
        out.abort()
        raise
    s3.put_object(
        Bucket=exports,
        Key=storage.manifest_key(user, album, share),
        Body=json.dumps({"items": entries}).encode(),
        ContentType="application/json",
    )
    return Archive(size, len(photos))


def _copy(s3: Any, raw: str, exports: str, photo: Photo, entry: dict[str, str]) -> None:
    try:
        s3.copy_object(
            Bucket=exports,
            Key=entry["key"],
            CopySource={"Bucket": raw, "Key": photo.raw_key},
            MetadataDirective="REPLACE",
            ContentType=photo.content_type,
            ContentDisposition=_attachment(entry["fileName"]),
        )
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404", "AccessDenied"):
            raise ExportFailed(
                "ORIGINAL_MISSING", f"The original of {entry['fileName']} is no longer stored."
            ) from None
        raise


def _attachment(name: str) -> str:
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _archive_name(item: dict[str, Any]) -> str:
    return safe_name(item.get("albumName") or "photos", "zip").removesuffix(".zip")


def _abort_uploads(s3: Any, bucket: str, key: str) -> None:
    for upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []):
        if upload["Key"] == key:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])


# ---------------------------------------------------------------- one export request


def export(user_id: str, album_id: str, share_id: str, *, final_attempt: bool = False) -> str:
    """Handle one export request; returns the share's status afterwards. Transient errors are
    raised (the message is retried) except on the final attempt, which ends the share FAILED."""
    item = sharing.load(album_id, share_id)
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
            sharing.delete_objects(item)
            return ended
        if isinstance(err, ExportFailed):
            return _failed(item, err.code, err.message)
        if final_attempt:
            return _failed(item, "EXPORT_FAILED", "The archive could not be built.")
        _release(album_id, share_id, token)
        raise
    ready = sharing.transition(
        album_id,
        share_id,
        "SET #s = :ready, readyAt = :at, updatedAt = :at, archiveBytes = :bytes, "
        "fileCount = :files REMOVE buildToken, buildUntil",
        {":ready": "READY", ":bytes": archive.size, ":files": archive.files, ":token": token},
        condition="#s = :building AND buildToken = :token",
    )
    if not ready:  # revoked (or failed by a final attempt) while this build ran
        sharing.delete_objects(item)
        return (sharing.load(album_id, share_id) or {"status": "GONE"})["status"]
    notify(sharing.load(album_id, share_id) or item)
    return "READY"


def _ended_meanwhile(item: dict[str, Any]) -> str | None:
    """GONE when the share's album was deleted (or its user erased) while the build ran, the
    share's status when it was revoked meanwhile; None while the share still wants its build."""
    if not album_alive(item["userId"], item["albumId"]):
        return "GONE"
    now = sharing.load(item["albumId"], item["shareId"])
    if now is None:
        return "GONE"
    return None if now["status"] == "BUILDING" else now["status"]


def _claim(album_id: str, share_id: str) -> str:
    token, now = new_id(), int(time.time())
    claimed = sharing.transition(
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
    sharing.transition(
        album_id,
        share_id,
        "REMOVE buildToken, buildUntil",
        {":token": token},
        condition="#s = :building AND buildToken = :token",
    )


def _failed(item: dict[str, Any], code: str, message: str) -> str:
    sharing.fail(item["albumId"], item["shareId"], code, message)
    sharing.delete_objects(item)
    return "FAILED"


def notify(item: dict[str, Any]) -> list[str]:
    """Email every recipient not emailed yet, while the share is READY and unexpired."""
    if sharing.status_of(item) != "READY":
        return []
    from faceflow import signing

    url = signing.from_environment().url(
        storage.archive_key(item["userId"], item["albumId"], item["shareId"]),
        sharing.epoch(item["expiresAt"]),
    )
    return share_mail.send_all(item, url)
