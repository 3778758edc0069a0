"""The pipeline's face steps: DetectAlign and Embed (one photo each, inside the state machine's
Maps) and Cluster (the whole job). Like the other steps (faceflow.pipeline) each acts only on its
own job's photos still PROCESSING and writes what it writes under deterministic keys, so a retried
task or a re-run execution finds its work done and does nothing twice.

- DetectAlign: the original, decoded safely at the working size (facekit.imaging), every face
  found and aligned (facekit.analysis: YuNet, the embedder's template, quality), each aligned crop
  to derived `crops/{faceId}.png` (lossless: Embed reads exactly the pixels detection aligned),
  each face a FACE# item; the photo's faceCount.
- Embed: the photo's crops → one vectors object `faces/{photoId}.npy` (row = face number), each
  FACE# item told its key, row and embedder.
- Cluster: the job's embedded faces join the album's people (faceflow.people_store).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from PIL import Image

from common.aws import is_transient
from faceflow import albums, jobs, people_store, storage
from faceflow.album_env import AlbumEnv, get, get_int
from faceflow.albums import photo_key, table
from faceflow.ingest import MAX_PIXELS, WORKING_MAX_SIDE
from faceflow.pipeline import TransientStepError, _aws_call, _job
from facekit import analysis, imaging
from facekit.embedding import get_embedder
from facekit.errors import Failure


def _photo(album_id: str, job_id: str, photo_id: str) -> dict[str, Any] | None:
    item = _aws_call(table().get_item, Key=photo_key(album_id, photo_id), ConsistentRead=True).get(
        "Item"
    )
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
    s3 = storage.s3()
    data = _aws_call(s3.get_object, Bucket=get(AlbumEnv.RAW_BUCKET), Key=item["rawKey"])[
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
        jobs.set_photo(album_id, photo_id, job_id, "FAILED", error=failure.as_item())
        return {"photoId": photo_id, "faces": 0}
    found = analysis.find_faces(decoded.rgb, scale=decoded.scale)
    user_id = item["userId"]
    for index, face in enumerate(found):
        face_id = people_store.face_id_of(photo_id, index)
        key = people_store.crop_key(user_id, album_id, face_id)
        _aws_call(
            s3.put_object,
            Bucket=get(AlbumEnv.DERIVED_BUCKET),
            Key=key,
            Body=imaging.encode_png(face.crop),
            ContentType="image/png",
        )
        facts = face.as_item()
        _put_face(
            {
                "PK": f"ALBUM#{album_id}",
                "SK": people_store.face_sk(face_id),
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
        )
    jobs.set_photo(album_id, photo_id, job_id, "PROCESSING", faceCount=len(found))
    if not albums.album_alive(user_id, album_id):  # deleted meanwhile: leave nothing behind
        _forget(album_id, [people_store.face_id_of(photo_id, i) for i in range(len(found))])
        return {"photoId": photo_id, "faces": 0}
    return {"photoId": photo_id, "faces": len(found)}


def _forget(album_id: str, face_ids: list[str]) -> None:
    """What DetectAlign wrote for these faces, for an album deleted while it ran."""
    for face_id in face_ids:
        item = (
            table()
            .get_item(Key={"PK": f"ALBUM#{album_id}", "SK": people_store.face_sk(face_id)})
            .get("Item")
        )
        if item:
            storage.s3().delete_object(Bucket=get(AlbumEnv.DERIVED_BUCKET), Key=item["cropKey"])
            if item.get("embeddingKey"):
                storage.s3().delete_object(
                    Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=item["embeddingKey"]
                )
            table().delete_item(Key={"PK": item["PK"], "SK": item["SK"]})


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def _put_face(item: dict[str, Any]) -> None:
    try:
        _aws_call(table().put_item, Item=item, ConditionExpression="attribute_not_exists(PK)")
    except ClientError as err:  # written by an earlier attempt: its later fields stay
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def embed(event: dict[str, Any]) -> dict[str, Any]:
    album_id, job_id, photo_id = event["albumId"], event["jobId"], event["photoId"]
    jobs.advance(album_id, job_id, "Embed")
    item = _photo(album_id, job_id, photo_id)
    if item is None:
        return {"photoId": photo_id, "embedded": 0}
    faces = sorted(people_store.face_items(album_id, photo_id), key=lambda f: f["faceIndex"])
    todo = [f for f in faces if not f.get("embeddingKey")]
    if not todo:
        return {"photoId": photo_id, "embedded": 0}
    embedder = get_embedder()
    s3 = storage.s3()
    crops = []
    for face in faces:  # all of them: the object holds every face of the photo, in order
        body = _aws_call(s3.get_object, Bucket=get(AlbumEnv.DERIVED_BUCKET), Key=face["cropKey"])
        with Image.open(io.BytesIO(body["Body"].read())) as image:
            crops.append(np.asarray(image.convert("RGB")))
    vectors = embedder.embed(crops)
    key = people_store.vectors_key(item["userId"], album_id, photo_id)
    _aws_call(people_store.put_array, key, vectors)
    if not albums.album_alive(item["userId"], album_id):  # deleted meanwhile
        storage.s3().delete_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)
        _forget(album_id, [f["faceId"] for f in faces])
        return {"photoId": photo_id, "embedded": 0}
    for row, face in enumerate(faces):
        try:  # never recreates a face a deletion removed
            _aws_call(
                table().update_item,
                Key={"PK": f"ALBUM#{album_id}", "SK": people_store.face_sk(face["faceId"])},
                UpdateExpression="SET embeddingKey = :k, embeddingRow = :r, embedder = :e",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":k": key, ":r": row, ":e": embedder.name},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
    return {"photoId": photo_id, "embedded": len(todo)}


def cluster(event: dict[str, Any]) -> dict[str, Any]:
    album_id, job_id = event["albumId"], event["jobId"]
    jobs.advance(album_id, job_id, "Cluster")
    try:
        added = people_store.add_faces(event["userId"], album_id, event["photoIds"])
    except people_store.StoreBusy as err:  # edits kept winning the commit: retry with backoff
        raise TransientStepError(str(err)) from err
    except ClientError as err:
        if is_transient(err):
            raise TransientStepError(str(err)) from err
        raise
    return {**_job(event), "faces": added}
