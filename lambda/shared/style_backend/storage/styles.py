"""Base resources: the curated style images a user picks from.

The BaseResource table is small (tens to hundreds of items) and read-mostly, so listing is one
paginated Scan filtered on `active`; lookups by id are one BatchGetItem.
"""

from __future__ import annotations

from typing import Any

from common import aws
from style_backend import config, keys
from style_backend.config import EnvVar
from style_backend.exceptions import UnknownStyle

STYLE_FIELDS = ("resourceId", "theme", "gender", "skinTone")
MAX_BATCH_GET = 100  # DynamoDB BatchGetItem limit per call
# A resource id: a full match (a trailing newline is not part of an id).
RESOURCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def style_key(theme: str, gender: str, skin_tone: str) -> str:
    """The `byStyle` GSI key: one partition per combination a client filters on."""
    return f"{theme}#{gender}#{skin_tone}"


def presigned_get(key: str, expires_in: int | None = None) -> str:
    return aws.client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": config.get(EnvVar.BUCKET_NAME), "Key": key},
        ExpiresIn=expires_in or config.get_int(EnvVar.RESULT_URL_EXPIRY_SECONDS, 900),
    )


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

    def listing(self) -> dict[str, Any]:
        """The GET /apis/styles body: active styles with presigned image URLs."""
        return {
            "items": [
                {
                    **{f: item.get(f, "") for f in STYLE_FIELDS},
                    "imageUrl": presigned_get(
                        item.get("imageKey") or keys.base_key(item["resourceId"])
                    ),
                }
                for item in self.active()
            ]
        }

    def require_active(self, resource_ids: list[str]) -> None:
        """UnknownStyle naming every requested id that is missing or inactive."""
        found: dict[str, dict[str, Any]] = {}
        resource = self.table.meta.client
        pending = {self.table_name: {"Keys": [{"resourceId": r} for r in resource_ids]}}
        while pending:
            page = resource.batch_get_item(RequestItems=pending)
            for item in page["Responses"].get(self.table_name, []):
                found[item["resourceId"]] = item
            pending = page.get("UnprocessedKeys") or {}
        unknown = [r for r in resource_ids if not found.get(r, {}).get("active")]
        if unknown:
            raise UnknownStyle(f"Unknown or inactive style(s): {', '.join(unknown)}.")
