"""Where an album's objects live, in every bucket, and the clients that reach them.

Every key starts with `tenant/{userId}/{albumId}/`: deleting an album (or erasing a user) is a
prefix deletion in each bucket, and nothing is ever parsed out of a key but these fixed segments.
The one exception is where uploads land: `incoming/` + the raw key. A presigned URL cannot be
revoked, so nothing it can write is ever kept there: the starter (faceflow.jobs) moves a photo's
upload to its raw key when it claims the photo and deletes whatever else arrives, and the raw
bucket's lifecycle expires anything left under `incoming/`.

    raw         incoming/tenant/{userId}/{albumId}/YYYY/MM/DD/{photoId}.{ext}   the upload
                tenant/{userId}/{albumId}/YYYY/MM/DD/{photoId}.{ext}            the original
    derived     tenant/{userId}/{albumId}/thumb/{photoId}.jpg
    embeddings  tenant/{userId}/{albumId}/{photoId}.npy
    exports     tenant/{userId}/{albumId}/share/{shareId}/archive.zip     the share's ZIP
                tenant/{userId}/{albumId}/share/{shareId}/photos/{photoId}.{ext}  each photo
                tenant/{userId}/{albumId}/share/{shareId}/manifest.json   names in the ZIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common import aws
from faceflow.album_env import AlbumEnv, get

TENANT = "tenant"
INCOMING = "incoming"  # where presigned uploads land (raw bucket)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# Every bucket an album writes to, by its setting: what album deletion empties.
ALBUM_BUCKETS = (
    AlbumEnv.RAW_BUCKET,
    AlbumEnv.DERIVED_BUCKET,
    AlbumEnv.EMBEDDINGS_BUCKET,
    AlbumEnv.EXPORTS_BUCKET,
)


def album_prefix(user_id: str, album_id: str) -> str:
    return f"{TENANT}/{user_id}/{album_id}/"


def user_prefix(user_id: str) -> str:
    return f"{TENANT}/{user_id}/"


def raw_key(user_id: str, album_id: str, photo_id: str, content_type: str, at: datetime) -> str:
    return f"{album_prefix(user_id, album_id)}{at:%Y/%m/%d}/{photo_id}.{EXTENSIONS[content_type]}"


def upload_key(raw_key: str) -> str:
    """Where the client's presigned PUT (or multipart upload) of this original lands."""
    return f"{INCOMING}/{raw_key}"


def thumbnail_key(user_id: str, album_id: str, photo_id: str) -> str:
    return f"{album_prefix(user_id, album_id)}thumb/{photo_id}.jpg"


def share_prefix(user_id: str, album_id: str, share_id: str) -> str:
    """Everything of one share in the exports bucket: revoking it deletes this prefix."""
    return f"{album_prefix(user_id, album_id)}share/{share_id}/"


def archive_key(user_id: str, album_id: str, share_id: str) -> str:
    return f"{share_prefix(user_id, album_id, share_id)}archive.zip"


def manifest_key(user_id: str, album_id: str, share_id: str) -> str:
    return f"{share_prefix(user_id, album_id, share_id)}manifest.json"


def shared_photo_key(user_id: str, album_id: str, share_id: str, photo_id: str, ext: str) -> str:
    # Ids only in the key (URL-safe, nothing of the user's file name); the name travels as the
    # object's Content-Disposition.
    return f"{share_prefix(user_id, album_id, share_id)}photos/{photo_id}.{ext}"


@dataclass(frozen=True)
class RawObject:
    user_id: str
    album_id: str
    photo_id: str


def raw_key_of(upload: str) -> str:
    """The raw key of the original an upload key (`upload_key`) lands for."""
    return upload.removeprefix(f"{INCOMING}/")


def parse_upload_key(key: str) -> RawObject | None:
    """The ids of an upload key (`incoming/` + a raw key), or None for anything else."""
    head, _, raw = key.partition("/")
    return parse_raw_key(raw) if head == INCOMING else None


def parse_raw_key(key: str) -> RawObject | None:
    """The ids of a raw upload key, or None for anything not shaped like one (never trusted
    further than that: the photo item must agree)."""
    parts = key.split("/")
    if len(parts) != 7 or parts[0] != TENANT or "." not in parts[6]:
        return None
    photo_id = parts[6].rsplit(".", 1)[0]
    if not all((parts[1], parts[2], photo_id)):
        return None
    return RawObject(parts[1], parts[2], photo_id)


def s3():
    return aws.client("s3")


def delete_prefix(bucket: str, prefix: str) -> int:
    """Delete every object (and abort every multipart upload) under `prefix`; returns objects
    deleted. Repeating it is harmless."""
    client = s3()
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return deleted


def delete_everywhere(prefix: str) -> int:
    """Every object under `prefix` in every album bucket, and the uploads landing under it."""
    uploads = delete_prefix(get(AlbumEnv.RAW_BUCKET), upload_key(prefix))
    return uploads + sum(delete_prefix(get(bucket), prefix) for bucket in ALBUM_BUCKETS)
