"""Face items (PK=ALBUM#{albumId} SK=FACE#{faceId}), written by ProcessPhoto, and the
objects they point to (the crop in derived, the vectors in embeddings)."""

from __future__ import annotations

from typing import Any

from faceflow.config import AlbumEnv, get
from faceflow.storage import keys, objects
from faceflow.storage.table import album_items, conditional, plain, table


def face_items(album_id: str, photo_id: str | None = None) -> list[dict[str, Any]]:
    prefix = keys.face_sk(photo_id) if photo_id else keys.FACE
    return [plain(i) for i in album_items(album_id, prefix)]


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
