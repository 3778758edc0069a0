"""The BaseResource table: the curated style images a user picks from.

The table is small (tens to hundreds of items) and read-mostly, so listing is one paginated Scan
filtered on `active`; lookups by id are one BatchGetItem.
"""

from __future__ import annotations

from typing import Any

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.storage import keys

MAX_BATCH_GET = 100  # DynamoDB BatchGetItem limit per call


def image_key(item: dict[str, Any]) -> str:
    """Where a base resource's image is: its imageKey, or the layout's key for its id."""
    return item.get("imageKey") or keys.base_key(item["resourceId"])


class StyleCatalog:
    def __init__(self, table_name: str | None = None):
        self.table_name = table_name or config.get(EnvVar.BASE_RESOURCE_TABLE)
        self.table = aws.table(self.table_name)

    def active(self) -> list[dict[str, Any]]:
        """Every active base resource, ordered by resourceId (stable for clients)."""
        from boto3.dynamodb.conditions import Attr

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"FilterExpression": Attr("active").eq(True)}
        while True:
            page = self.table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(items, key=lambda item: item["resourceId"])

    def find(self, resource_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The items of these ids that exist, by id (one BatchGetItem, unprocessed keys again)."""
        found: dict[str, dict[str, Any]] = {}
        resource = self.table.meta.client
        pending = {self.table_name: {"Keys": [{"resourceId": r} for r in resource_ids]}}
        while pending:
            page = resource.batch_get_item(RequestItems=pending)
            for item in page["Responses"].get(self.table_name, []):
                found[item["resourceId"]] = item
            pending = page.get("UnprocessedKeys") or {}
        return found

    def get_active(self, resource_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"resourceId": resource_id}).get("Item")
        return item if item and item.get("active") else None

    def put(self, item: dict[str, Any]) -> None:
        self.table.put_item(Item=item)
