"""The pipeline's face steps: DetectAlign and Embed (one photo each, inside the state machine's
Maps) and Cluster (the whole job). Like the other steps (faceflow.edge.pipeline) each acts only on
its own job's photos still PROCESSING and writes what it writes under deterministic keys, so a
retried task or a re-run execution finds its work done and does nothing twice.

- DetectAlign: the original, decoded safely at the working size (facekit.imaging), every face
  found and aligned (facekit.analysis: YuNet, the embedder's template, quality), each aligned crop
  to derived `crops/{faceId}.png` (lossless: Embed reads exactly the pixels detection aligned),
  each face a FACE# item; the photo's faceCount.
- Embed: the photo's crops → one vectors object `faces/{photoId}.npy` (row = face number), each
  FACE# item told its key, row and embedder.
- Cluster: the job's embedded faces join the album's people (faceflow.edge.clusterer, the
  album's one writer).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from PIL import Image

from common.aws import is_transient
from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.ingest import MAX_PIXELS, WORKING_MAX_SIDE
from faceflow.edge import clusterer
from faceflow.edge.pipeline import TransientStepError, _aws_call, _job
from faceflow.storage import faces, jobs, keys, objects, people, photos
from faceflow.storage.albums import album_alive
from facekit import analysis, imaging
from facekit.embedding import get_embedder
from facekit.errors import Failure


def _photo(album_id: str, job_id: str, photo_id: str) -> dict[str, Any] | None:
    item = _aws_call(photos.photo_item, album_id, photo_id)
    if item is None or item.get("jobId") != job_id or item["status"] != "PROCESSING":
        return None  # another job's, a duplicate, failed, or gone: not this step's to touch
    return item


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(float(value), 3)))


def detect_align(event: dict[str, Any]) -> dict[str, Any]:
    album_id, job_id, photo_id = event["albumId"], event["jobId"], event["photoId"]
    jobs.advance(album_id, job_id, "DetectAlign")
    item = _photo(album_id, job_id, photo_id)
    if item is None:
        return {"photoId": photo_id, "faces": 0}
    if "faceCount" in item:
        return {"photoId": photo_id, "faces": int(item["faceCount"])}  # done before a retry
    data = _aws_call(objects.s3().get_object, Bucket=get(AlbumEnv.RAW_BUCKET), Key=item["rawKey"])[
        "Body"
    ].read()
    try:
        decoded = imaging.decode_image(
            data,
            max_pixels=MAX_PIXELS,
            max_bytes=get_int(AlbumEnv.MAX_PHOTO_BYTES),
            target_max_side=WORKING_MAX_SIDE,
        )
    except Failure as failure:  # ExtractEXIF decoded it: only a changed object gets here
        photos.set_photo(album_id, photo_id, job_id, "FAILED", error=failure.as_item())
        return {"photoId": photo_id, "faces": 0}
    found = analysis.find_faces(decoded.rgb, scale=decoded.scale)
    user_id = item["userId"]
    for index, face in enumerate(found):
        _store_face(user_id, album_id, job_id, photo_id, index, face)
    photos.set_photo(album_id, photo_id, job_id, "PROCESSING", faceCount=len(found))
    if not album_alive(user_id, album_id):  # deleted meanwhile: leave nothing behind
        faces.forget(album_id, [keys.face_id_of(photo_id, i) for i in range(len(found))])
        return {"photoId": photo_id, "faces": 0}
    return {"photoId": photo_id, "faces": len(found)}


def _store_face(
    user_id: str, album_id: str, job_id: str, photo_id: str, index: int, face: Any
) -> None:
    """One found face: its aligned crop (lossless) and its FACE# item."""
    face_id = keys.face_id_of(photo_id, index)
    key = keys.crop_key(user_id, album_id, face_id)
    _aws_call(faces.put_crop, key, imaging.encode_png(face.crop))
    facts = face.as_item()
    item = {
        **keys.face_key(album_id, face_id),
        "userId": user_id,
        "albumId": album_id,
        "photoId": photo_id,
        "jobId": job_id,
        "faceId": face_id,
        "faceIndex": index,
        "box": [_decimal(v) for v in facts["box"]],
        "landmarks": [[_decimal(x), _decimal(y)] for x, y in facts["landmarks"]],
        "score": _decimal(facts["score"]),
        "quality": _decimals(facts["quality"]),
        "lowQuality": face.quality.low,
        "cropKey": key,
    }
    _aws_call(faces.put_face, item)  # written by an earlier attempt: its later fields stay


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def embed(event: dict[str, Any]) -> dict[str, Any]:
    album_id, job_id, photo_id = event["albumId"], event["jobId"], event["photoId"]
    jobs.advance(album_id, job_id, "Embed")
    item = _photo(album_id, job_id, photo_id)
    if item is None:
        return {"photoId": photo_id, "embedded": 0}
    found = sorted(faces.face_items(album_id, photo_id), key=lambda f: f["faceIndex"])
    todo = [f for f in found if not f.get("embeddingKey")]
    if not todo:
        return {"photoId": photo_id, "embedded": 0}
    embedder = get_embedder()
    crops = []
    for face in found:  # all of them: the object holds every face of the photo, in order
        with Image.open(io.BytesIO(_aws_call(faces.get_crop, face["cropKey"]))) as image:
            crops.append(np.asarray(image.convert("RGB")))
    vectors = embedder.embed(crops)
    key = keys.vectors_key(item["userId"], album_id, photo_id)
    _aws_call(faces.put_vectors, key, vectors)
    if not album_alive(item["userId"], album_id):  # deleted meanwhile
        objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, key)
        faces.forget(album_id, [f["faceId"] for f in found])
        return {"photoId": photo_id, "embedded": 0}
    for row, face in enumerate(found):
        _aws_call(faces.set_embedding, album_id, face["faceId"], key, row, embedder.name)
    return {"photoId": photo_id, "embedded": len(todo)}


def cluster(event: dict[str, Any]) -> dict[str, Any]:
    """The job's faces placed at once (a direct call: the state machine's Cluster state goes
    through the FIFO queue, faceflow.edge.clusterer, which places them the same way)."""
    album_id, job_id = event["albumId"], event["jobId"]
    jobs.advance(album_id, job_id, "Cluster")
    try:
        added = clusterer.add_faces(event["userId"], album_id, event["photoIds"])
    except people.StoreBusy as err:  # another writer held the people: retry with backoff
        raise TransientStepError(str(err)) from err
    except ClientError as err:
        if is_transient(err):
            raise TransientStepError(str(err)) from err
        raise
    return {**_job(event), "faces": added}
