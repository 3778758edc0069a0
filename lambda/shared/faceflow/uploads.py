"""Getting a photo into an album's raw bucket: one presigned PUT, or S3 multipart with a
presigned URL per part (resumable: S3 remembers the parts it received).

An upload request that names a SHA-256 already claimed in the album gets the existing photo back
and moves no bytes. The photo item is written before any URL is handed out, so the pipeline
always finds the item its object belongs to.

Every URL writes to the photo's upload key (`incoming/` + its raw key, faceflow.storage), never
to the original itself: a URL stays valid for its whole lifetime whatever happens meanwhile, so
the starter (faceflow.jobs) moves the upload to the raw key when it claims the photo, and deletes
whatever a URL writes after that (a reused URL, an album deleted or a user erased meanwhile).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from faceflow import storage
from faceflow.album_env import AlbumEnv, get, get_int
from faceflow.albums import (
    AlbumNotFound,
    InvalidUpload,
    UnsupportedType,
    UploadConflict,
    UploadTooLarge,
    album_key,
    get_album,
    new_id,
    now_iso,
    owner_index,
    photo_key,
    table,
)

MAX_PARTS = 10_000  # S3's limit


def sha256_key(album_id: str, digest: str) -> dict[str, str]:
    return {"PK": f"ALBUM#{album_id}", "SK": f"SHA256#{digest}"}


def claim_digest(user_id: str, album_id: str, digest: str, photo_id: str) -> str:
    """The photo that owns `digest` in the album: `photo_id` if it claimed it now, else the one
    that claimed it first (conditional write: two concurrent claims agree)."""
    try:
        table().put_item(
            Item={**sha256_key(album_id, digest), "photoId": photo_id, "userId": user_id},
            ConditionExpression="attribute_not_exists(PK)",
        )
        return photo_id
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    item = table().get_item(Key=sha256_key(album_id, digest), ConsistentRead=True)["Item"]
    return item["photoId"]


def _expiry() -> int:
    return get_int(AlbumEnv.UPLOAD_URL_EXPIRY_SECONDS)


def _part_urls(bucket: str, key: str, upload_id: str, numbers: list[int]) -> list[dict[str, Any]]:
    s3 = storage.s3()
    return [
        {
            "partNumber": n,
            "url": s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": n},
                ExpiresIn=_expiry(),
            ),
        }
        for n in numbers
    ]


def _part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def request_upload(
    user_id: str,
    album_id: str,
    *,
    file_name: str,
    content_type: str,
    size: int,
    sha256: str | None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of POST /albums/{albumId}/uploadUrl."""
    get_album(user_id, album_id)
    if content_type not in storage.EXTENSIONS:
        raise UnsupportedType(
            f"{content_type} is not supported: upload {', '.join(storage.EXTENSIONS)}."
        )
    limit = get_int(AlbumEnv.MAX_PHOTO_BYTES)
    if size > limit:
        raise UploadTooLarge(f"The file is {size} bytes; the limit is {limit} bytes.")
    photo_id = new_id()
    if sha256:
        owner = claim_digest(user_id, album_id, sha256.lower(), photo_id)
        if owner != photo_id:
            return 200, {"photoId": owner, "duplicateOf": owner, "upload": None}

    created = now_iso()
    bucket = get(AlbumEnv.RAW_BUCKET)
    key = storage.raw_key(user_id, album_id, photo_id, content_type, _parse(created))
    part_size = get_int(AlbumEnv.PART_SIZE_BYTES)
    item: dict[str, Any] = {
        **photo_key(album_id, photo_id),
        "LSI1SK": created,
        "GSI1PK": "STATUS#UPLOADING",
        "GSI1SK": created,
        "GSI2PK": owner_index(user_id, album_id),
        "GSI2SK": f"PHOTO#{photo_id}",
        "photoId": photo_id,
        "albumId": album_id,
        "userId": user_id,
        "fileName": file_name,
        "contentType": content_type,
        "size": size,
        "rawKey": key,
        "status": "UPLOADING",
        "createdAt": created,
        "updatedAt": created,
    }
    if sha256:
        item["declaredSha256"] = sha256.lower()
    s3 = storage.s3()
    landing = storage.upload_key(key)
    if size <= part_size:
        upload: dict[str, Any] = {
            "method": "PUT",
            "url": s3.generate_presigned_url(
                "put_object",
                Params={"Bucket": bucket, "Key": landing, "ContentType": content_type},
                ExpiresIn=_expiry(),
            ),
            "headers": {"Content-Type": content_type},
        }
    else:
        parts = _part_count(size, part_size)
        if parts > MAX_PARTS:
            raise UploadTooLarge(f"{parts} parts of {part_size} bytes exceed S3's {MAX_PARTS}.")
        upload_id = s3.create_multipart_upload(
            Bucket=bucket, Key=landing, ContentType=content_type
        )["UploadId"]
        item.update(uploadId=upload_id, partSize=part_size)
        upload = {
            "method": "MULTIPART",
            "uploadId": upload_id,
            "partSize": part_size,
            "parts": _part_urls(bucket, landing, upload_id, list(range(1, parts + 1))),
        }
    table().put_item(Item=item)
    table().update_item(
        Key=album_key(user_id, album_id),
        UpdateExpression="ADD photoCount :one",
        ExpressionAttributeValues={":one": 1},
    )
    return 201, {"photoId": photo_id, "upload": upload}


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _photo(user_id: str, album_id: str, photo_id: str) -> dict[str, Any]:
    get_album(user_id, album_id)
    item = table().get_item(Key=photo_key(album_id, photo_id), ConsistentRead=True).get("Item")
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound("photo")
    return item


def _received_parts(bucket: str, item: dict[str, Any]) -> list[dict[str, Any]]:
    s3 = storage.s3()
    parts: list[dict[str, Any]] = []
    kwargs = {
        "Bucket": bucket,
        "Key": storage.upload_key(item["rawKey"]),
        "UploadId": item["uploadId"],
    }
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


def resume_upload(user_id: str, album_id: str, photo_id: str) -> dict[str, Any]:
    """GET …/photos/{photoId}/upload: the parts S3 has, and fresh URLs for the others."""
    item = _photo(user_id, album_id, photo_id)
    if item["status"] != "UPLOADING":
        raise UploadConflict(f"The photo is {item['status']}; nothing is left to upload.")
    bucket = get(AlbumEnv.RAW_BUCKET)
    s3 = storage.s3()
    landing = storage.upload_key(item["rawKey"])
    if "uploadId" not in item:
        url = s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": bucket, "Key": landing, "ContentType": item["contentType"]},
            ExpiresIn=_expiry(),
        )
        return {
            "photoId": photo_id,
            "upload": {
                "method": "PUT",
                "url": url,
                "headers": {"Content-Type": item["contentType"]},
            },
            "received": [],
        }
    received = _received_parts(bucket, item)
    have = {p["partNumber"] for p in received}
    total = _part_count(int(item["size"]), int(item["partSize"]))
    missing = [n for n in range(1, total + 1) if n not in have]
    return {
        "photoId": photo_id,
        "upload": {
            "method": "MULTIPART",
            "uploadId": item["uploadId"],
            "partSize": int(item["partSize"]),
            "parts": _part_urls(bucket, landing, item["uploadId"], missing),
        },
        "received": received,
    }


def complete_upload(
    user_id: str, album_id: str, photo_id: str, parts: list[dict[str, Any]]
) -> dict[str, Any]:
    """POST …/photos/{photoId}/complete: S3 assembles the parts; its ObjectCreated event starts
    the pipeline. Repeating it after success is harmless."""
    item = _photo(user_id, album_id, photo_id)
    if item["status"] != "UPLOADING" or "uploadId" not in item:
        return {"photoId": photo_id, "status": item["status"]}
    if not parts:
        raise InvalidUpload("parts: at least one part is required")
    numbers = [p["partNumber"] for p in parts]
    if len(set(numbers)) != len(numbers):
        raise InvalidUpload("parts: each partNumber once")
    landing = storage.upload_key(item["rawKey"])
    try:
        storage.s3().complete_multipart_upload(
            Bucket=get(AlbumEnv.RAW_BUCKET),
            Key=landing,
            UploadId=item["uploadId"],
            MultipartUpload={
                "Parts": [
                    {"PartNumber": p["partNumber"], "ETag": p["etag"]}
                    for p in sorted(parts, key=lambda p: p["partNumber"])
                ]
            },
        )
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
            raise InvalidUpload(f"S3 refused the parts ({code}).") from err
        if code not in ("NoSuchUpload", "404"):
            raise
        if _object_exists(landing):
            return {"photoId": photo_id, "status": "UPLOADING"}  # completed before: a repeat
        status = _photo(user_id, album_id, photo_id)["status"]
        if status != "UPLOADING":  # completed before, and the starter took it meanwhile
            return {"photoId": photo_id, "status": status}
        raise UploadConflict("The upload was aborted.") from err
    return {"photoId": photo_id, "status": "UPLOADING"}


def _object_exists(key: str) -> bool:
    try:
        storage.s3().head_object(Bucket=get(AlbumEnv.RAW_BUCKET), Key=key)
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
