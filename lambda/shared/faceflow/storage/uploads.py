"""Uploads in the raw bucket: presigned PUT and multipart URLs for a photo's upload key
(`incoming/` + its raw key), the parts S3 received, completing a multipart upload, and moving an
upload to its original's raw key."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.errors import InvalidUpload, UploadConflict
from faceflow.storage import objects
from faceflow.storage.objects import MISSING


def _expiry() -> int:
    return get_int(AlbumEnv.UPLOAD_URL_EXPIRY_SECONDS)


def put_ticket(landing: str, content_type: str) -> dict[str, Any]:
    """One presigned PUT of the whole file."""
    url = objects.s3().generate_presigned_url(
        "put_object",
        Params={"Bucket": get(AlbumEnv.RAW_BUCKET), "Key": landing, "ContentType": content_type},
        ExpiresIn=_expiry(),
    )
    return {"method": "PUT", "url": url, "headers": {"Content-Type": content_type}}


def create_multipart(landing: str, content_type: str) -> str:
    return objects.s3().create_multipart_upload(
        Bucket=get(AlbumEnv.RAW_BUCKET), Key=landing, ContentType=content_type
    )["UploadId"]


def multipart_ticket(
    landing: str, upload_id: str, part_size: int, numbers: list[int]
) -> dict[str, Any]:
    """A presigned URL for each of these parts of a multipart upload."""
    s3, bucket = objects.s3(), get(AlbumEnv.RAW_BUCKET)
    parts = [
        {
            "partNumber": n,
            "url": s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": bucket, "Key": landing, "UploadId": upload_id, "PartNumber": n},
                ExpiresIn=_expiry(),
            ),
        }
        for n in numbers
    ]
    return {"method": "MULTIPART", "uploadId": upload_id, "partSize": part_size, "parts": parts}


def received_parts(landing: str, upload_id: str) -> list[dict[str, Any]]:
    """The parts S3 holds of a multipart upload; UploadConflict once it is complete or aborted."""
    s3 = objects.s3()
    parts: list[dict[str, Any]] = []
    kwargs = {"Bucket": get(AlbumEnv.RAW_BUCKET), "Key": landing, "UploadId": upload_id}
    while True:
        try:
            page = s3.list_parts(**kwargs)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("NoSuchUpload", "404"):
                raise UploadConflict("The upload is already complete or was aborted.") from err
            raise
        parts += [
            {"partNumber": p["PartNumber"], "etag": p["ETag"], "size": p["Size"]}
            for p in page.get("Parts", [])
        ]
        if not page.get("IsTruncated"):
            return parts
        kwargs["PartNumberMarker"] = page["NextPartNumberMarker"]


def complete_multipart(landing: str, upload_id: str, parts: list[dict[str, Any]]) -> bool:
    """S3 assembles the parts: True, or False when the upload is no longer there (completed
    before, or aborted); InvalidUpload when S3 refuses the parts."""
    try:
        objects.s3().complete_multipart_upload(
            Bucket=get(AlbumEnv.RAW_BUCKET),
            Key=landing,
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": p["partNumber"], "ETag": p["etag"]}
                    for p in sorted(parts, key=lambda p: p["partNumber"])
                ]
            },
        )
        return True
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            raise InvalidUpload(f"S3 refused the parts ({code}).") from err
        if code not in ("NoSuchUpload", "404"):
            raise
        return False


def upload_size(upload: str) -> int | None:
    """The size of an upload, or None when it is gone."""
    try:
        return objects.s3().head_object(Bucket=get(AlbumEnv.RAW_BUCKET), Key=upload)[
            "ContentLength"
        ]
    except ClientError as err:
        if err.response["Error"]["Code"] in MISSING:
            return None
        raise


def move_to_original(upload: str, raw_key: str) -> bool:
    """The upload copied to its original's raw key; False when the upload is gone."""
    bucket = get(AlbumEnv.RAW_BUCKET)
    try:
        objects.s3().copy_object(
            Bucket=bucket, Key=raw_key, CopySource={"Bucket": bucket, "Key": upload}
        )
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] in MISSING:
            return False
        raise


def delete_raw(key: str) -> None:
    objects.delete(AlbumEnv.RAW_BUCKET, key)
