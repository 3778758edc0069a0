"""Getting a photo into an album's raw bucket: one presigned PUT, or S3 multipart with a
presigned URL per part (resumable: S3 remembers the parts it received).

An upload request that names a SHA-256 already claimed in the album gets the existing photo back
and moves no bytes. The photo item is written before any URL is handed out, so the pipeline
always finds the item its object belongs to.

Every URL writes to the photo's upload key (`incoming/` + its raw key, faceflow.storage.keys),
never to the original itself: a URL stays valid for its whole lifetime whatever happens meanwhile,
so the starter (faceflow.edge.starter) moves the upload to the raw key when it claims the photo,
and deletes whatever a URL writes after that (a reused URL, an album deleted or a user erased
meanwhile).
"""

from __future__ import annotations

from typing import Any

from faceflow.config import AlbumEnv, get_int
from faceflow.domain.errors import InvalidUpload, UploadConflict
from faceflow.domain.ids import new_id, now_iso, parse_iso
from faceflow.domain.uploads import check_upload, part_count, parts_of
from faceflow.storage import albums, keys, objects, photos, uploads


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
    albums.get_album(user_id, album_id)
    check_upload(content_type, size, get_int(AlbumEnv.MAX_PHOTO_BYTES))
    photo_id = new_id()
    if sha256:
        owner = photos.claim_digest(user_id, album_id, sha256.lower(), photo_id)
        if owner != photo_id:
            return 200, {"photoId": owner, "duplicateOf": owner, "upload": None}
    created = now_iso()
    key = keys.raw_key(user_id, album_id, photo_id, content_type, parse_iso(created))
    item = photos.new_photo(
        user_id,
        album_id,
        photo_id,
        created,
        fileName=file_name,
        contentType=content_type,
        size=size,
        rawKey=key,
    )
    if sha256:
        item["declaredSha256"] = sha256.lower()
    upload = _ticket(item, keys.upload_key(key), content_type, size)
    photos.put_photo(item)
    albums.count_photo(user_id, album_id)
    return 201, {"photoId": photo_id, "upload": upload}


def _ticket(item: dict[str, Any], landing: str, content_type: str, size: int) -> dict[str, Any]:
    """One presigned PUT up to the part size, else a multipart upload (its id and part size
    recorded on the photo's item)."""
    part_size = get_int(AlbumEnv.PART_SIZE_BYTES)
    if size <= part_size:
        return uploads.put_ticket(landing, content_type)
    parts = parts_of(size, part_size)
    upload_id = uploads.create_multipart(landing, content_type)
    item.update(uploadId=upload_id, partSize=part_size)
    return uploads.multipart_ticket(landing, upload_id, part_size, list(range(1, parts + 1)))


def _photo(user_id: str, album_id: str, photo_id: str) -> dict[str, Any]:
    albums.get_album(user_id, album_id)
    return photos.owned_photo(user_id, album_id, photo_id)


def resume_upload(user_id: str, album_id: str, photo_id: str) -> dict[str, Any]:
    """GET …/photos/{photoId}/upload: the parts S3 has, and fresh URLs for the others."""
    item = _photo(user_id, album_id, photo_id)
    if item["status"] != "UPLOADING":
        raise UploadConflict(f"The photo is {item['status']}; nothing is left to upload.")
    landing = keys.upload_key(item["rawKey"])
    if "uploadId" not in item:
        upload = uploads.put_ticket(landing, item["contentType"])
        return {"photoId": photo_id, "upload": upload, "received": []}
    received = uploads.received_parts(landing, item["uploadId"])
    have = {p["partNumber"] for p in received}
    total = part_count(int(item["size"]), int(item["partSize"]))
    missing = [n for n in range(1, total + 1) if n not in have]
    upload = uploads.multipart_ticket(landing, item["uploadId"], int(item["partSize"]), missing)
    return {"photoId": photo_id, "upload": upload, "received": received}


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
    landing = keys.upload_key(item["rawKey"])
    if uploads.complete_multipart(landing, item["uploadId"], parts):
        return {"photoId": photo_id, "status": "UPLOADING"}
    if objects.exists(AlbumEnv.RAW_BUCKET, landing):
        return {"photoId": photo_id, "status": "UPLOADING"}  # completed before: a repeat
    status = _photo(user_id, album_id, photo_id)["status"]
    if status != "UPLOADING":  # completed before, and the starter took it meanwhile
        return {"photoId": photo_id, "status": status}
    raise UploadConflict("The upload was aborted.")
