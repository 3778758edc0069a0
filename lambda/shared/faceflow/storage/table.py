"""The album table: its client, conditional writes, and reading a partition whole."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from faceflow.config import AlbumEnv, get
from faceflow.storage import keys


def Key(name: str) -> Any:
    from boto3.dynamodb.conditions import Key as _Key

    return _Key(name)


def table():
    return aws.table(get(AlbumEnv.TABLE))


def plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints/floats, recursively (responses and step outputs are JSON)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def conditional(func, *args, **kwargs) -> bool:
    """True if the conditional write happened, False if its condition did not hold."""
    try:
        func(*args, **kwargs)
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def album_items(album_id: str, prefix: str = "", attributes: tuple[str, ...] = ()):
    """Every item of an album's partition (optionally one kind, by SK prefix)."""
    condition = Key("PK").eq(keys.album_pk(album_id))
    if prefix:
        condition = condition & Key("SK").begins_with(prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if attributes:
        kwargs["ProjectionExpression"] = ",".join(f"#{a}" for a in attributes)
        kwargs["ExpressionAttributeNames"] = {f"#{a}": a for a in attributes}
    return all_pages(**kwargs)


def user_items(user_id: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every item of a user's partition (optionally one kind, by SK prefix)."""
    condition = Key("PK").eq(keys.user_pk(user_id))
    if prefix:
        condition = condition & Key("SK").begins_with(prefix)
    return list(all_pages(KeyConditionExpression=condition))


def all_pages(**kwargs):
    while True:
        page = table().query(ConsistentRead=True, **kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(
    item_keys: list[dict[str, str]],
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> list[dict]:
    """These items (those that exist), read consistently, 100 keys a request."""
    client = table().meta.client
    name = get(AlbumEnv.TABLE)
    found: list[dict[str, Any]] = []
    for start in range(0, len(item_keys), 100):
        request: dict[str, Any] = {"Keys": item_keys[start : start + 100], "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = projection
        if names:
            request["ExpressionAttributeNames"] = names
        pending: dict[str, Any] | None = {name: request}
        while pending:
            answer = client.batch_get_item(RequestItems=pending)
            found.extend(answer["Responses"].get(name, []))
            pending = answer.get("UnprocessedKeys") or None
    return found
