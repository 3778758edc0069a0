"""The base bucket's objects: presigned URLs and forms, reads that know the pipeline's limits,
writes, copies and deletions (in S3's batches)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain import swap
from style_backend.domain.errors import Failure, Reason

MAX_DELETE_OBJECTS = 1000  # S3 DeleteObjects limit per call
_MISSING = ("404", "NoSuchKey", "NotFound")


def bucket() -> str:
    return config.get(EnvVar.BUCKET_NAME)


def presigned_get(key: str, expires_in: int | None = None) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket(), "Key": key},
        ExpiresIn=expires_in or config.get_int(EnvVar.RESULT_URL_EXPIRY_SECONDS, 900),
    )


def upload_url_expiry() -> int:
    return config.get_int(EnvVar.UPLOAD_URL_EXPIRY_SECONDS, 300)


def presigned_upload(key: str, content_type: str) -> dict[str, Any]:
    """A presigned POST bound to `key`, `content_type` and 1..MAX_UPLOAD_BYTES bytes."""
    max_bytes = config.max_upload_bytes()
    return aws.client("s3").generate_presigned_post(
        Bucket=bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=upload_url_expiry(),
    )


def put(bucket_name: str, key: str, body: bytes, content_type: str) -> None:
    aws.client("s3").put_object(Bucket=bucket_name, Key=key, Body=body, ContentType=content_type)


def delete(bucket_name: str, key: str) -> None:
    aws.client("s3").delete_object(Bucket=bucket_name, Key=key)


def read_upload(bucket_name: str, key: str, max_bytes: int) -> bytes | None:
    """An upload's bytes; None when the object no longer exists, FILE_TOO_LARGE over the limit.
    Size first: the presigned POST caps it, but never trust one layer alone."""
    s3 = aws.client("s3")
    try:
        size = s3.head_object(Bucket=bucket_name, Key=key)["ContentLength"]
        if size > max_bytes:
            raise Failure(
                Reason.FILE_TOO_LARGE, f"The file is {size} bytes; the limit is {max_bytes} bytes."
            )
        return s3.get_object(Bucket=bucket_name, Key=key)["Body"].read(max_bytes + 1)
    except ClientError as err:
        if err.response["Error"]["Code"] in _MISSING:
            return None
        raise


def read_inline(bucket_name: str, key: str, what: str) -> str:
    """The object's bytes as base64 for a swap request; a missing or oversized image is this
    style's Failure."""
    s3 = aws.client("s3")
    try:
        obj = s3.get_object(Bucket=bucket_name, Key=key)
    except Exception as err:
        if aws.error_code(err) in ("NoSuchKey", "404"):
            raise swap.image_gone(what, style_image=what == "style image") from None
        raise  # throttling, 5xx, access denied: the caller's retry rules apply
    if obj["ContentLength"] > swap.INFERENCE_IMAGE_MAX_BYTES:
        obj["Body"].close()
        raise swap.image_too_large(what)
    return base64.b64encode(obj["Body"].read()).decode()


def read_start(bucket_name: str, key: str, size: int) -> bytes:
    """The object's first `size` bytes; picture_missing() when it is missing (404, or 403 without
    ListBucket), empty (416) or refused: retrying cannot help. Transient errors raise."""
    try:
        head = aws.client("s3").get_object(Bucket=bucket_name, Key=key, Range=f"bytes=0-{size - 1}")
    except Exception as err:
        if aws.error_code(err) is None or aws.is_transient(err):
            raise
        raise swap.picture_missing() from None
    return head["Body"].read()


def copy(bucket_name: str, source_key: str, key: str, content_type: str) -> None:
    """Copy within the bucket; picture_missing() when the source is gone (erased meanwhile)."""
    try:
        aws.client("s3").copy_object(
            CopySource={"Bucket": bucket_name, "Key": source_key},
            Bucket=bucket_name,
            Key=key,
            ContentType=content_type,
            MetadataDirective="REPLACE",
        )
    except Exception as err:
        if aws.error_code(err) is None or aws.is_transient(err):
            raise
        raise swap.picture_missing() from None


def keys_under(bucket_name: str, prefix: str) -> Iterator[str]:
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket_name, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield obj["Key"]


def delete_objects(bucket_name: str, object_keys: Iterable[str]) -> int:
    """DeleteObjects in chunks of 1000; raises if S3 reports any key it could not delete."""
    s3 = aws.client("s3")
    batch: list[str] = []
    deleted = 0

    def flush() -> None:
        nonlocal deleted
        if not batch:
            return
        answer = s3.delete_objects(
            Bucket=bucket_name, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise RuntimeError(f"S3 kept {len(answer['Errors'])} object(s), e.g. {first}")
        deleted += len(batch)
        batch.clear()

    for key in object_keys:
        batch.append(key)
        if len(batch) == MAX_DELETE_OBJECTS:
            flush()
    flush()
    return deleted
