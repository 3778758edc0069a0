"""Right to erasure: remove every object and item of one user.

Order matters for idempotency: objects first, then the Process items that name the inference
objects, so that a run interrupted half-way (timeout, throttling) leaves enough behind for the
next run to finish the job. Running it again on an erased user deletes nothing and succeeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlparse

from boto3.dynamodb.conditions import Key

from faceflow.albums import erase_user_albums
from style_backend import aws, config, keys
from style_backend.config import EnvVar
from style_backend.logs import get_logger

log = get_logger("style_backend.erasure")

MAX_DELETE_OBJECTS = 1000  # S3 DeleteObjects limit per call
ERASURE_SUMMARY = {
    "type": "object",
    "required": ["userId", "deleted"],
    "properties": {
        "userId": {"type": "string"},
        "deleted": {
            "type": "object",
            "description": "How many objects and items this request removed.",
            "properties": {
                name: {"type": "integer"}
                for name in ("objects", "processes", "results", "history", "agreements", "albums")
            },
        },
    },
}


def _keys_under(bucket: str, prefix: str) -> Iterator[str]:
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            yield obj["Key"]


def delete_objects(bucket: str, object_keys: Iterable[str]) -> int:
    """DeleteObjects in chunks of 1000; raises if S3 reports any key it could not delete."""
    s3 = aws.client("s3")
    batch: list[str] = []
    deleted = 0

    def flush() -> None:
        nonlocal deleted
        if not batch:
            return
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise RuntimeError(f"S3 kept {len(answer['Errors'])} object(s), e.g. {first}")
        deleted += len(batch)
        batch.clear()

    for key in object_keys:
        batch.append(key)
        if len(batch) == MAX_DELETE_OBJECTS:
            flush()
    flush()
    return deleted


def _query_all(table: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _delete_items(table: Any, key_names: tuple[str, ...], items: Iterable[dict]) -> int:
    count = 0
    with table.batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={k: item[k] for k in key_names})
            count += 1
    return count


def _inference_keys(bucket: str, process: dict[str, Any]) -> Iterator[str]:
    """Objects of the process outside the user's prefixes: its inference requests, and any
    output/failure object whose location the pipeline recorded on the style."""
    yield from _keys_under(bucket, f"{keys.INFERENCE_IN}{process['processId']}/")
    for style in (process.get("styles") or {}).values():
        for field in ("outputLocation", "failureLocation"):
            uri = urlparse(style.get(field) or "")
            if uri.scheme == "s3" and uri.netloc == bucket and uri.path.startswith("/inference/"):
                yield uri.path.lstrip("/")


def erase_user(user_id: str) -> dict[str, Any]:
    """Delete the user's objects, then their items in every table. Returns counts."""
    bucket = config.get(EnvVar.BUCKET_NAME)
    processes = aws.table(config.get(EnvVar.PROCESS_TABLE))
    display = aws.table(config.get(EnvVar.DISPLAY_TABLE))
    history = aws.table(config.get(EnvVar.DISPLAY_HISTORY_TABLE))
    agreements = aws.table(config.get(EnvVar.USER_AGREEMENT_TABLE))

    owned = list(
        _query_all(processes, IndexName="byUser", KeyConditionExpression=Key("userId").eq(user_id))
    )
    # The GSI may project keys only: read each process for its styles.
    full = [processes.get_item(Key={"processId": p["processId"]}).get("Item") or p for p in owned]

    def user_objects() -> Iterator[str]:
        for prefix in keys.USER_PREFIXES:
            yield from _keys_under(bucket, f"{prefix}{user_id}/")
        for process in full:
            yield from _inference_keys(bucket, process)

    by_user = Key("userId").eq(user_id)
    summary = {
        "objects": delete_objects(bucket, user_objects()),
        "processes": _delete_items(processes, ("processId",), full),
        "results": _delete_items(
            display, ("userId", "resultId"), _query_all(display, KeyConditionExpression=by_user)
        ),
        "history": _delete_items(
            history, ("userId", "shownAt"), _query_all(history, KeyConditionExpression=by_user)
        ),
        "agreements": _delete_items(
            agreements,
            ("userId", "termsVersion"),
            _query_all(agreements, KeyConditionExpression=by_user),
        ),
        "albums": erase_user_albums(user_id),
    }
    log.info("user erased", extra={"userId": user_id, **summary})
    return {"userId": user_id, "deleted": summary}
