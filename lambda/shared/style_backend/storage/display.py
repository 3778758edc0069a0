"""What a user gets back: progress of one process, and their styled results, newest first.

`nextToken` is opaque to clients (common.pagination): the Display table's LastEvaluatedKey,
checked on the way back in (shape, and that it belongs to the caller) so that it cannot be used to
read another user's partition.
"""

from __future__ import annotations

import time
from typing import Any

from common import aws, pagination
from common.errors import NotFound
from style_backend import config
from style_backend.config import EnvVar
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
        fields = ("userId", "resultId")
        start = pagination.decode(next_token, fields, lambda key: key["userId"] == user_id)
        if start:
            kwargs["ExclusiveStartKey"] = start
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
            body["nextToken"] = pagination.encode(page["LastEvaluatedKey"])
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
