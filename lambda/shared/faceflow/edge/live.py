"""Live progress of FaceFlow: the album table's stream records (jobs and shares) as the messages
the WebSocket API pushes to the album's owner (docs/api.md, "Live progress").

An album message is the album's status as `GET /albums/{albumId}/status` answers it, read when
the record arrives (not rebuilt from the record): records of one batch about one album become one
message, the newest state, so a burst of job steps costs one status read.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from common.errors import NotFound
from faceflow.edge.albums import album_status
from faceflow.storage import keys
from faceflow.storage.table import plain

ALBUM_FIELDS = ("albumId", "status", "photos", "faces", "clusters")
Message = tuple[str, dict[str, Any]]  # (the user to push to, the message)
_deserializer = TypeDeserializer()


def new_image(record: dict[str, Any]) -> dict[str, Any]:
    image = record.get("dynamodb", {}).get("NewImage") or {}
    return plain({k: _deserializer.deserialize(v) for k, v in image.items()})


def album_message(user_id: str, album_id: str) -> dict[str, Any]:
    status = album_status(user_id, album_id)
    return {"type": "album.status", **{k: status[k] for k in ALBUM_FIELDS}}


def share_message(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "share.status",
        "shareId": item["shareId"],
        "albumId": item["albumId"],
        "status": item["status"],
    }


def messages(records: list[dict[str, Any]]) -> list[Message]:
    """The messages of a batch, in the records' order (an album's at its last record)."""
    pending: list[tuple[str, Any]] = []
    for record in records:
        item = new_image(record)
        kind = keys.kind(str(item.get("SK", "")))
        if not item.get("userId") or not item.get("albumId"):
            continue
        if kind == "JOB":
            album = (item["userId"], item["albumId"])
            pending = [p for p in pending if p != ("album", album)] + [("album", album)]
        elif kind == "SHARE" and "shareId" in item and "status" in item:
            pending.append(("share", item))
    out: list[Message] = []
    for what, value in pending:
        if what == "share":
            out.append((value["userId"], share_message(value)))
            continue
        try:
            out.append((value[0], album_message(*value)))
        except NotFound:  # deleted meanwhile: nothing to tell
            continue
    return out
