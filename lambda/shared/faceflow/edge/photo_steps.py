"""The pipeline's per-photo step, ProcessPhoto (one invocation per photo, inside the state
machine's Map): the original read once, decoded once, and everything the album needs of it
recorded in three stages.

- Ingest: safe decode, SHA-256, pHash, EXIF, thumbnail (faceflow.domain.ingest) → the thumbnail
  in derived, the PHOTO# item's facts.
- Faces: every face found and aligned (facekit.analysis: YuNet, the embedder's template,
  quality) in the decoded picture, each aligned crop to derived `crops/{faceId}.png` (lossless),
  each face a FACE# item; the photo's faceCount.
- Vectors: the aligned crops, as they are in memory, embedded → one vectors object
  `faces/{photoId}.npy` (row = face number), each FACE# item told its key, row and embedder.

Idempotent like every step (faceflow.edge.pipeline): it acts only on its own job's photo still
PROCESSING, writes under deterministic keys, and skips a stage whose result is recorded (the
photo's thumbKey, its faceCount, every face's embeddingKey), so a retried task does nothing
twice; a retry that starts past a stage reads back what that stage stored (the original, the
crops). Hostile files end the photo FAILED with a reason. After its writes the step asks
whether the album is still alive and, if a deletion began meanwhile, deletes what it wrote (the
deletion may have listed the album before the writes landed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from PIL import Image

from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.ingest import MAX_PIXELS, WORKING_MAX_SIDE, ingest_photo
from faceflow.edge.pipeline import _aws_call
from faceflow.storage import faces, jobs, keys, objects, photos
from faceflow.storage.albums import album_alive
from facekit import analysis, imaging
from facekit.embedding import get_embedder
from facekit.errors import Failure, Reason

STATE = "ProcessPhoto"  # the Map's task (stacks/albums/pipeline.py)
_MISSING = ("404", "NoSuchKey", "NotFound")


@dataclass
class _Work:
    """One photo's step: its item, and what earlier stages of this invocation left in memory."""

    album_id: str
    job_id: str
    photo_id: str
    item: dict[str, Any]
    rgb: np.ndarray | None = None  # the decoded working copy (≤ WORKING_MAX_SIDE)
    scale: float = 1.0
    fields: dict[str, Any] | None = None  # PHOTO# fields not yet written
    written: list[str] | None = None  # derived objects this invocation wrote

    @property
    def user_id(self) -> str:
        return self.item["userId"]


def process_photo(event: dict[str, Any]) -> dict[str, Any]:
    """One photo of the Map: ingest, faces, vectors (each stage skipped once recorded)."""
    album_id, job_id, photo_id = event["albumId"], event["jobId"], event["photoId"]
    jobs.advance(album_id, job_id, STATE)
    item = _aws_call(photos.photo_item, album_id, photo_id)
    if item is None or item.get("jobId") != job_id or item["status"] != "PROCESSING":
        return {"photoId": photo_id, "status": item["status"] if item else "GONE", "faces": 0}
    work = _Work(album_id, job_id, photo_id, item, fields={}, written=[])
    try:
        if not item.get("thumbKey"):
            _ingest(work)
        # None: found before a retry (their crops are stored)
        found = _find_faces(work) if "faceCount" not in item else None
    except Failure as failure:
        photos.set_photo(album_id, photo_id, job_id, "FAILED", error=failure.as_item())
        return {"photoId": photo_id, "status": "FAILED", "faces": 0}
    count = _record_faces(work, found)
    if not album_alive(work.user_id, album_id):  # deleted meanwhile: leave nothing behind
        _forget(work, count)
        return {"photoId": photo_id, "status": "GONE", "faces": 0}
    return {"photoId": photo_id, "status": "PROCESSING", "faces": count}


def _original(work: _Work) -> bytes:
    """The original's bytes; Failure when it is too large (told by the GET's length, before its
    body is read) or gone."""
    limit = get_int(AlbumEnv.MAX_PHOTO_BYTES)
    try:
        answer = _aws_call(
            objects.s3().get_object, Bucket=get(AlbumEnv.RAW_BUCKET), Key=work.item["rawKey"]
        )
    except ClientError as err:
        if err.response["Error"]["Code"] not in _MISSING:
            raise
        raise Failure("UPLOAD_MISSING", "The uploaded file is gone.") from err
    if answer["ContentLength"] > limit:
        answer["Body"].close()
        raise Failure(
            Reason.FILE_TOO_LARGE,
            f"The file is {answer['ContentLength']} bytes; the limit is {limit} bytes.",
        )
    return answer["Body"].read()


def _ingest(work: _Work) -> None:
    """Decode, hashes, EXIF, thumbnail: the thumbnail stored, the facts kept for the item (written
    with the faces, in one update)."""
    data = _original(work)
    facts = ingest_photo(data, max_bytes=get_int(AlbumEnv.MAX_PHOTO_BYTES))
    thumb = keys.thumbnail_key(work.user_id, work.album_id, work.photo_id)
    _aws_call(
        objects.s3().put_object,
        Bucket=get(AlbumEnv.DERIVED_BUCKET),
        Key=thumb,
        Body=facts.thumbnail,
        ContentType="image/jpeg",
    )
    work.written.append(thumb)
    work.fields.update({**facts.as_item(), "thumbKey": thumb, "actualSize": len(data)})
    work.rgb, work.scale = facts.rgb, facts.scale


def _find_faces(work: _Work) -> list[analysis.FoundFace]:
    if work.rgb is None:  # ingested before a retry: decode again, as ingestion did
        decoded = imaging.decode_image(
            _original(work),
            max_pixels=MAX_PIXELS,
            max_bytes=get_int(AlbumEnv.MAX_PHOTO_BYTES),
            target_max_side=WORKING_MAX_SIDE,
        )
        work.rgb, work.scale = decoded.rgb, decoded.scale
    return analysis.find_faces(work.rgb, scale=work.scale)


def _record_faces(work: _Work, found: list[analysis.FoundFace] | None) -> int:
    """Vectors, crops and FACE# items of the faces just found (None: found before, embedded here
    if they are not yet), then the photo's item; returns the photo's face count."""
    if found is None:
        count = int(work.item["faceCount"])
        _embed_stored(work)
    else:
        count = len(found)
        embedder = get_embedder()
        key = keys.vectors_key(work.user_id, work.album_id, work.photo_id)
        if found:
            _aws_call(faces.put_vectors, key, analysis.embed_faces(found, embedder))
        for index, face in enumerate(found):
            _store_face(work, index, face, key, embedder.name)
        work.fields["faceCount"] = count
    if work.fields:
        photos.set_photo(work.album_id, work.photo_id, work.job_id, "PROCESSING", **work.fields)
    return count


def _store_face(work: _Work, index: int, face: Any, vectors: str, embedder: str) -> None:
    """One found face: its aligned crop (lossless) and its FACE# item, vector included."""
    face_id = keys.face_id_of(work.photo_id, index)
    crop = keys.crop_key(work.user_id, work.album_id, face_id)
    _aws_call(faces.put_crop, crop, imaging.encode_png(face.crop))
    facts = face.as_item()
    item = {
        **keys.face_key(work.album_id, face_id),
        "userId": work.user_id,
        "albumId": work.album_id,
        "photoId": work.photo_id,
        "jobId": work.job_id,
        "faceId": face_id,
        "faceIndex": index,
        "box": [_decimal(v) for v in facts["box"]],
        "landmarks": [[_decimal(x), _decimal(y)] for x, y in facts["landmarks"]],
        "score": _decimal(facts["score"]),
        "quality": _decimals(facts["quality"]),
        "lowQuality": face.quality.low,
        "cropKey": crop,
        "embeddingKey": vectors,
        "embeddingRow": index,
        "embedder": embedder,
    }
    _aws_call(faces.put_face, item)  # written by an earlier attempt: its fields stay


def _embed_stored(work: _Work) -> None:
    """Faces found by an earlier attempt and not yet embedded: their stored crops → the vectors
    object (every face of the photo, in order), each FACE# item told where its row is."""
    found = sorted(faces.face_items(work.album_id, work.photo_id), key=lambda f: f["faceIndex"])
    if all(f.get("embeddingKey") for f in found):
        return
    crops = []
    for face in found:  # all of them: the object holds every face of the photo, in order
        with Image.open(io.BytesIO(_aws_call(faces.get_crop, face["cropKey"]))) as image:
            crops.append(np.asarray(image.convert("RGB")))
    embedder = get_embedder()
    key = keys.vectors_key(work.user_id, work.album_id, work.photo_id)
    _aws_call(faces.put_vectors, key, embedder.embed(crops))
    for row, face in enumerate(found):
        _aws_call(faces.set_embedding, work.album_id, face["faceId"], key, row, embedder.name)


def _forget(work: _Work, count: int) -> None:
    """What this invocation wrote, for an album deleted meanwhile: the thumbnail, the faces'
    crops, vectors and items. The crops by their keys, not through the items: the deletion may
    have removed an item after listing the objects, before the crop landed."""
    face_ids = [keys.face_id_of(work.photo_id, i) for i in range(count)]
    for key in work.written + [keys.crop_key(work.user_id, work.album_id, f) for f in face_ids]:
        objects.delete(AlbumEnv.DERIVED_BUCKET, key)
    objects.delete(
        AlbumEnv.EMBEDDINGS_BUCKET, keys.vectors_key(work.user_id, work.album_id, work.photo_id)
    )
    faces.forget(work.album_id, face_ids)


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(float(value), 3)))


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value
