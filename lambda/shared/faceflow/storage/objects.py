"""The album buckets: the S3 client, presigned reads, and prefix deletion (an album's objects in
every bucket, the uploads landing under it)."""

from __future__ import annotations

import os

from botocore.exceptions import ClientError

from common import aws
from faceflow.config import AlbumEnv, get
from faceflow.storage import keys

# Every bucket an album writes to, by its setting: what album deletion empties.
ALBUM_BUCKETS = (
    AlbumEnv.RAW_BUCKET,
    AlbumEnv.DERIVED_BUCKET,
    AlbumEnv.EMBEDDINGS_BUCKET,
    AlbumEnv.EXPORTS_BUCKET,
)
MISSING = ("NoSuchKey", "404", "NotFound")  # what S3 answers for an object that is not there


def s3():
    return aws.client("s3")


def derived_url(key: str) -> str:
    """A presigned GET of a derived object (a thumbnail, a face crop) for the album's owner."""
    expiry = int(os.environ.get(AlbumEnv.THUMBNAIL_URL_EXPIRY_SECONDS.value, "900"))
    return s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": get(AlbumEnv.DERIVED_BUCKET), "Key": key},
        ExpiresIn=expiry,
    )


def delete(setting: AlbumEnv, key: str) -> None:
    s3().delete_object(Bucket=get(setting), Key=key)


def exists(setting: AlbumEnv, key: str) -> bool:
    try:
        s3().head_object(Bucket=get(setting), Key=key)
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] in MISSING:
            return False
        raise


def delete_prefix(bucket: str, prefix: str) -> int:
    """Delete every object (and abort every multipart upload) under `prefix`; returns objects
    deleted. Repeating it is harmless."""
    client = s3()
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if found:
            client.delete_objects(Bucket=bucket, Delete={"Objects": found, "Quiet": True})
            deleted += len(found)
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return deleted


def delete_everywhere(prefix: str) -> int:
    """Every object under `prefix` in every album bucket, and the uploads landing under it."""
    uploads = delete_prefix(get(AlbumEnv.RAW_BUCKET), keys.upload_key(prefix))
    return uploads + sum(delete_prefix(get(bucket), prefix) for bucket in ALBUM_BUCKETS)
