"""Live progress of the styling flow: the process table's stream records as the messages the
WebSocket API pushes to the process's owner (docs/api.md, "Live progress").

A message is the process as `GET /apis/images/{userId}/processes/{processId}` shows it, built from
the record's new image (every write of the flow is a whole-item condition on the status, so the
image is the state that write made). Erasure's tombstones and markers have no owner: no message.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from style_backend.domain.results import progress_view
from style_backend.storage import objects

Message = tuple[str, dict[str, Any]]  # (the user to push to, the message)
_deserializer = TypeDeserializer()


def messages(records: list[dict[str, Any]]) -> list[Message]:
    out: list[Message] = []
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        item = {k: _deserializer.deserialize(v) for k, v in image.items()}
        if not item.get("userId") or not item.get("processId") or not item.get("status"):
            continue
        view = progress_view(item, item["processId"], objects.presigned_get)
        out.append((item["userId"], {"type": "process.status", **view}))
    return out
