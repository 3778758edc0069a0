"""The Display table (one row per styled picture a user can see) and DisplayHistory (a row per
result shown to its user)."""

from __future__ import annotations

import time
from typing import Any

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain.process import now_iso
from style_backend.storage.keys import TTL_ATTRIBUTE, result_id

DISPLAY_KEY = ("userId", "resultId")
HISTORY_KEY = ("userId", "shownAt")


class DisplayStore:
    """The Display table: one row per styled picture a user can see."""

    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.DISPLAY_TABLE))

    def add(self, process: dict[str, Any], resource_id: str, result_key: str) -> bool:
        """Add the row once; False when it was already there (a retried completion)."""
        item = {
            "userId": process["userId"],
            "resultId": result_id(process["createdAt"], process["processId"], resource_id),
            "processId": process["processId"],
            "resourceId": resource_id,
            "resultKey": result_key,
            "createdAt": process["createdAt"],
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(resultId)")
        except Exception as err:
            if aws.condition_failed(err):
                return False
            raise
        return True

    def remove(self, process: dict[str, Any], resource_id: str) -> None:
        """Remove the row `add` wrote (its process was erased meanwhile); no-op when absent."""
        result = result_id(process["createdAt"], process["processId"], resource_id)
        self.table.delete_item(Key={"userId": process["userId"], "resultId": result})

    def page(
        self, user_id: str, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the user's rows, newest first, and the key to go on from (None: last)."""
        from boto3.dynamodb.conditions import Key

        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("userId").eq(user_id),
            "ScanIndexForward": False,  # resultId starts with createdAt: newest first
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        return page.get("Items", []), page.get("LastEvaluatedKey")


class DisplayHistory:
    """DisplayHistory: when each result was shown to its user (expires after the configured
    days)."""

    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.DISPLAY_HISTORY_TABLE))

    def record_shown(self, user_id: str, result_ids: list[str]) -> None:
        if not result_ids:
            return
        shown_at = now_iso()
        ttl = int(time.time()) + config.get_int(EnvVar.DISPLAY_HISTORY_TTL_DAYS, 90) * 86400
        with self.table.batch_writer() as batch:  # chunks by 25, retries unprocessed items
            for shown in result_ids:
                batch.put_item(
                    Item={
                        "userId": user_id,
                        "shownAt": f"{shown_at}#{shown}",
                        "resultId": shown,
                        TTL_ATTRIBUTE: ttl,
                    }
                )
