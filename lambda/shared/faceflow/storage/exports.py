"""The exports bucket's side of a share's build: the photos' own copies, the archive streamed
into an S3 multipart upload (MultipartWriter: at most one part, `SHARE_PART_SIZE_BYTES`, is
buffered), each original read in READ_CHUNK pieces, and the manifest of the share's objects.

Nothing is visible at the archive's key before its multipart upload completes (S3 swaps the object
whole), so a retried build replaces an earlier one and never leaves a half-written archive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from typing import Any

from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.archive import READ_CHUNK, Entry, Photo, archive_name, attachment, write_zip
from faceflow.domain.errors import ExportFailed
from faceflow.domain.location import LocationUnknown, without_location
from faceflow.storage import keys
from faceflow.storage.photos import album_photos

PHOTO_FIELDS = (
    "photoId",
    "fileName",
    "rawKey",
    "contentType",
    "takenAt",
    "createdAt",
    "userId",
    "sha256",
)


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


def load_photos(user_id: str, album_id: str, photo_ids: list[str]) -> list[Photo]:
    """The share's photos in its order, read page by page (only the chosen ones are kept)."""
    wanted = set(photo_ids)
    found = {
        item["photoId"]: Photo.from_item(item)
        for item in album_photos(album_id, PHOTO_FIELDS)
        if item["photoId"] in wanted and item.get("userId") == user_id
    }
    missing = [p for p in photo_ids if p not in found]
    if missing:
        raise ExportFailed("PHOTO_MISSING", f"{len(missing)} shared photos were deleted.")
    return [found[p] for p in photo_ids]


def copy_photo(s3: Any, raw: str, exports: str, photo: Photo, entry: dict[str, str]) -> Photo:
    """The original copied to the share's own photo key, named for download (a server-side
    copy: the bytes never pass through the function). Returns the photo as shipped."""
    try:
        s3.copy_object(
            Bucket=exports,
            Key=entry["key"],
            CopySource={"Bucket": raw, "Key": photo.raw_key},
            MetadataDirective="REPLACE",
            ContentType=photo.content_type,
            ContentDisposition=attachment(entry["fileName"]),
        )
    except ClientError as err:
        _missing(err, entry)
    return photo


def copy_without_location(
    s3: Any, raw: str, exports: str, photo: Photo, entry: dict[str, str]
) -> Photo:
    """The original read (whole: at most the album's photo limit, 50 MiB), checked against the
    digest ProcessPhoto recorded, its location removed without touching its pixels
    (faceflow.domain.location) and written to the share's photo key. Returns the photo with the
    digest of what was written: the archive is checked against it."""
    try:
        original = s3.get_object(Bucket=raw, Key=photo.raw_key)["Body"].read()
    except ClientError as err:
        _missing(err, entry)
    if photo.sha256 and hashlib.sha256(original).hexdigest() != photo.sha256:
        raise ExportFailed(
            "ORIGINAL_CHANGED", f"The original of {entry['fileName']} is not the photo uploaded."
        )
    try:
        shipped = without_location(original)
    except LocationUnknown as err:
        raise ExportFailed(
            "LOCATION_NOT_REMOVED",
            f"The location of {entry['fileName']} could not be removed ({err}): share it without "
            "that photo, or with keepLocation.",
        ) from None
    s3.put_object(
        Bucket=exports,
        Key=entry["key"],
        Body=shipped,
        ContentType=photo.content_type,
        ContentDisposition=attachment(entry["fileName"]),
    )
    return dataclasses.replace(photo, sha256=hashlib.sha256(shipped).hexdigest())


def _missing(err: ClientError, entry: dict[str, str]) -> None:
    """ORIGINAL_MISSING for an original that is gone; any other error raised again."""
    if err.response["Error"]["Code"] in ("NoSuchKey", "404", "AccessDenied"):
        raise ExportFailed(
            "ORIGINAL_MISSING", f"The original of {entry['fileName']} is no longer stored."
        ) from None
    raise err


def write_archive(
    s3: Any,
    bucket: str,
    keys_: list[str],
    photos: list[Photo],
    names: list[str],
    out: MultipartWriter,
) -> int:
    """Every photo (its copy at `keys_`, in `bucket`), stored, into the ZIP on `out`, each
    checked against its recorded digest; returns the archive's size."""

    def read(index: int) -> Entry:
        body = s3.get_object(Bucket=bucket, Key=keys_[index])
        return Entry(body["ContentLength"], body["Body"].iter_chunks(READ_CHUNK))

    write_zip(out, photos, names, read)
    return out.complete()


def open_archive(s3: Any, item: dict[str, Any]) -> MultipartWriter:
    """The share's archive as a fresh multipart upload (an earlier attempt's aborted, if it
    died mid-way)."""
    exports = get(AlbumEnv.EXPORTS_BUCKET)
    key = keys.archive_key(item["userId"], item["albumId"], item["shareId"])
    for upload in s3.list_multipart_uploads(Bucket=exports, Prefix=key).get("Uploads", []):
        if upload["Key"] == key:
            s3.abort_multipart_upload(Bucket=exports, Key=key, UploadId=upload["UploadId"])
    return MultipartWriter(
        s3,
        exports,
        key,
        get_int(AlbumEnv.SHARE_PART_SIZE_BYTES),
        ContentType="application/zip",
        ContentDisposition=attachment(f"{archive_name(item)}.zip"),
    )


def put_manifest(s3: Any, item: dict[str, Any], entries: list[dict[str, str]]) -> None:
    s3.put_object(
        Bucket=get(AlbumEnv.EXPORTS_BUCKET),
        Key=keys.manifest_key(item["userId"], item["albumId"], item["shareId"]),
        Body=json.dumps({"items": entries}).encode(),
        ContentType="application/json",
    )
