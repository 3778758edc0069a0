"""Face items (PK=ALBUM#{albumId} SK=FACE#{faceId}), written by ProcessPhoto, and the
objects they point to (the crop in derived, the vectors in embeddings)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from faceflow.config import AlbumEnv, get
from faceflow.storage import keys, objects
from faceflow.storage.table import album_items, batch_get, conditional, plain, table


def face_items(album_id: str, photo_id: str | None = None) -> list[dict[str, Any]]:
    prefix = keys.face_sk(photo_id) if photo_id else keys.FACE
    return [plain(i) for i in album_items(album_id, prefix)]


def faces_of(album_id: str, face_counts: dict[str, int]) -> list[dict[str, Any]]:
    """The faces of these photos (photoId → its faceCount), read by key in batches: no query."""
    wanted = [
        keys.face_key(album_id, keys.face_id_of(p, n))
        for p, c in face_counts.items()
        for n in range(c)
    ]
    return [plain(i) for i in batch_get(wanted)]


def put_face(item: dict[str, Any]) -> None:
    """A face's item, once (written by an earlier attempt: its later fields stay)."""
    conditional(table().put_item, Item=item, ConditionExpression="attribute_not_exists(PK)")


def set_embedding(album_id: str, face_id: str, key: str, row: int, embedder: str) -> None:
    """Where the face's vector is; never recreates a face a deletion removed."""
    conditional(
        table().update_item,
        Key=keys.face_key(album_id, face_id),
        UpdateExpression="SET embeddingKey = :k, embeddingRow = :r, embedder = :e",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":k": key, ":r": row, ":e": embedder},
    )


def forget(album_id: str, face_ids: list[str]) -> None:
    """These faces' items and objects, for an album deleted while a step wrote them."""
    for face_id in face_ids:
        item = table().get_item(Key=keys.face_key(album_id, face_id)).get("Item")
        if item:
            objects.delete(AlbumEnv.DERIVED_BUCKET, item["cropKey"])
            if item.get("embeddingKey"):
                objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, item["embeddingKey"])
            table().delete_item(Key={"PK": item["PK"], "SK": item["SK"]})


def put_crop(key: str, png: bytes) -> None:
    objects.s3().put_object(
        Bucket=get(AlbumEnv.DERIVED_BUCKET), Key=key, Body=png, ContentType="image/png"
    )


def get_crop(key: str) -> bytes:
    return objects.s3().get_object(Bucket=get(AlbumEnv.DERIVED_BUCKET), Key=key)["Body"].read()


def put_vectors(key: str, array: np.ndarray) -> None:
    """A photo's face vectors (row = face number), float32 .npy."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, np.float32), allow_pickle=False)
    objects.s3().put_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key, Body=buffer.getvalue())


def get_vectors(key: str) -> np.ndarray:
    body = objects.s3().get_object(Bucket=get(AlbumEnv.EMBEDDINGS_BUCKET), Key=key)["Body"]
    return np.load(io.BytesIO(body.read()), allow_pickle=False)
