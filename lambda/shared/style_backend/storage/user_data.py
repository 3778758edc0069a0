"""Every item of one user, for erasure: their processes (through the byUser index) and their rows
of the tables keyed by userId."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from style_backend.storage.keys import PROCESS_BY_USER
from style_backend.storage.processes import ProcessStore


def query_all(table: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_items(table: Any, key_names: tuple[str, ...], items: Iterable[dict]) -> int:
    count = 0
    with table.batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={k: item[k] for k in key_names})
            count += 1
    return count


def processes_of(store: ProcessStore, user_id: str) -> list[dict[str, Any]]:
    """The user's processes, each read whole (the GSI may project keys only)."""
    from boto3.dynamodb.conditions import Key

    owned = list(
        query_all(
            store.table, IndexName=PROCESS_BY_USER, KeyConditionExpression=Key("userId").eq(user_id)
        )
    )
    return [store.get(p["processId"]) or p for p in owned]


def delete_user_rows(table: Any, key_names: tuple[str, ...], user_id: str) -> int:
    """Delete every row of the user in a table keyed by userId. Consistent reads: a row written
    just before this erasure must be found."""
    from boto3.dynamodb.conditions import Key

    rows = query_all(table, KeyConditionExpression=Key("userId").eq(user_id), ConsistentRead=True)
    return delete_items(table, key_names, rows)
