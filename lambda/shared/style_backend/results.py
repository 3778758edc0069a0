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

from style_backend import aws, config
from style_backend.config import EnvVar
from style_backend.exceptions import InvalidToken, NotFound
from style_backend.process import ProcessStore, StyleStatus, now_iso
from style_backend.styles import presigned_get
from style_backend.tables import TTL_ATTRIBUTE

# A process id: a full match (a trailing newline is not part of an id).
PROCESS_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


def progress(user_id: str, process_id: str) -> dict[str, Any]:
    """The process as its owner sees it. Someone else's process answers 404, like a missing
    one, so that process ids cannot be probed."""
    item = ProcessStore().get(process_id)
    if item is None or item.get("userId") != user_id:
        raise NotFound("No such process.")
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
    """The ExclusiveStartKey a token stands for; InvalidToken if it is malformed or not the
    caller's."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidToken("nextToken is not valid.") from err
    if (
        not isinstance(key, dict)
        or set(key) != {"userId", "resultId"}
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise InvalidToken("nextToken is not valid.")
    if key["userId"] != user_id:
        raise InvalidToken("nextToken belongs to another listing.")
    return key


class ResultGallery:
    def __init__(self, display_table: str | None = None, history_table: str | None = None):
        self.display = aws.table(display_table or config.get(EnvVar.DISPLAY_TABLE))
        self.history = aws.table(history_table or config.get(EnvVar.DISPLAY_HISTORY_TABLE))

    def page(self, user_id: str, limit: int, next_token: str | None = None) -> dict[str, Any]:
        """One page of results, newest first, and a DisplayHistory row per result shown."""
        from boto3.dynamodb.conditions import Key

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
