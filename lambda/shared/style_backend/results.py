"""What a user gets back: progress of one process, and their styled results, newest first.

`nextToken` is opaque to clients: base64url of the Display table's LastEvaluatedKey as JSON. It is
checked on the way back in (shape, and that it belongs to the caller) so that it cannot be used to
read another user's partition.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from boto3.dynamodb.conditions import Key

from style_backend import aws, config
from style_backend.config import EnvVar
from style_backend.http import ApiError
from style_backend.process import ProcessStore, Status, StyleStatus, now_iso
from style_backend.styles import presigned_get
from style_backend.tables import TTL_ATTRIBUTE

PROCESS_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}
LIST_QUERY = {
    "type": "object",
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20},
        "nextToken": {"type": "string", "minLength": 1, "maxLength": 2048},
    },
}
ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}
PROGRESS = {
    "type": "object",
    "required": ["processId", "status", "styles"],
    "properties": {
        "processId": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "styles": {
            "type": "object",
            "description": "Per requested style (resourceId → its state).",
            "additionalProperties": {
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string", "enum": [s.value for s in StyleStatus]},
                    "resultUrl": {"type": "string", "format": "uri"},
                    "error": ERROR,
                },
            },
        },
        "error": ERROR,
    },
}
RESULT_PAGE = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["resultId", "processId", "resourceId", "url", "createdAt"],
                "properties": {
                    "resultId": {"type": "string"},
                    "processId": {"type": "string"},
                    "resourceId": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "createdAt": {"type": "string", "format": "date-time"},
                },
            },
        },
        "nextToken": {"type": "string", "description": "Pass back to get the next page."},
    },
}


def progress(user_id: str, process_id: str) -> dict[str, Any]:
    """The process as its owner sees it. Someone else's process answers 404, like a missing
    one, so that process ids cannot be probed."""
    item = ProcessStore().get(process_id)
    if item is None or item.get("userId") != user_id:
        raise ApiError(404, "NOT_FOUND", "No such process.")
    styles: dict[str, Any] = {}
    for resource_id, style in item.get("styles", {}).items():
        view: dict[str, Any] = {"status": style["status"]}
        if style["status"] == StyleStatus.COMPLETED and style.get("resultKey"):
            view["resultUrl"] = presigned_get(style["resultKey"])
        if style.get("error"):
            view["error"] = dict(style["error"])
        styles[resource_id] = view
    body: dict[str, Any] = {"processId": process_id, "status": item["status"], "styles": styles}
    if item.get("error"):
        body["error"] = dict(item["error"])
    return body


def encode_token(last_key: dict[str, Any]) -> str:
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(token: str, user_id: str) -> dict[str, str]:
    """The ExclusiveStartKey a token stands for; 400 if it is malformed or not the caller's."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise ApiError(400, "INVALID_TOKEN", "nextToken is not valid.") from err
    if (
        not isinstance(key, dict)
        or set(key) != {"userId", "resultId"}
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise ApiError(400, "INVALID_TOKEN", "nextToken is not valid.")
    if key["userId"] != user_id:
        raise ApiError(400, "INVALID_TOKEN", "nextToken belongs to another listing.")
    return key


class ResultGallery:
    def __init__(self, display_table: str | None = None, history_table: str | None = None):
        self.display = aws.table(display_table or config.get(EnvVar.DISPLAY_TABLE))
        self.history = aws.table(history_table or config.get(EnvVar.DISPLAY_HISTORY_TABLE))

    def page(self, user_id: str, limit: int, next_token: str | None = None) -> dict[str, Any]:
        """One page of results, newest first, and a DisplayHistory row per result shown."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("userId").eq(user_id),
            "ScanIndexForward": False,  # resultId starts with createdAt: newest first
            "Limit": limit,
        }
        if next_token:
            kwargs["ExclusiveStartKey"] = decode_token(next_token, user_id)
        page = self.display.query(**kwargs)
        items = [
            {
                "resultId": row["resultId"],
                "processId": row["processId"],
                "resourceId": row["resourceId"],
                "url": presigned_get(row["resultKey"]),
                "createdAt": row["createdAt"],
            }
            for row in page.get("Items", [])
        ]
        self.record_shown(user_id, [item["resultId"] for item in items])
        body: dict[str, Any] = {"items": items}
        if "LastEvaluatedKey" in page:
            body["nextToken"] = encode_token(page["LastEvaluatedKey"])
        return body

    def record_shown(self, user_id: str, result_ids: list[str]) -> None:
        if not result_ids:
            return
        shown_at = now_iso()
        ttl = int(time.time()) + config.get_int(EnvVar.DISPLAY_HISTORY_TTL_DAYS, 90) * 86400
        with self.history.batch_writer() as batch:  # chunks by 25, retries unprocessed items
            for result_id in result_ids:
                batch.put_item(
                    Item={
                        "userId": user_id,
                        "shownAt": f"{shown_at}#{result_id}",
                        "resultId": result_id,
                        TTL_ATTRIBUTE: ttl,
                    }
                )
