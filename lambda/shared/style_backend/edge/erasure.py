"""Right to erasure: remove every object and item of one user, whatever the pipeline is doing.

Order matters. First the user's erasure marker (ProcessStore.mark_user_erased): from then on a
pipeline step treats every process of the user created until then as erased. Then the objects,
then the Process items that name the inference objects (so that a run interrupted half-way
leaves enough behind for the next run to finish the job); they become ERASED tombstones that no
transition leaves. Running it again on an erased user deletes nothing and succeeds.

Steps still running meanwhile follow one rule (ProcessStore.lost_to_erasure): check before the
work, and again after their last write; when the process was erased, delete what they wrote and
the object that triggered them. An object written after this erasure listed its prefix is
therefore deleted by its writer or by its consumer; anything written before, erasure finds.
FaceFlow's writers of a user's data are to follow the same rule. FaceFlow erases its own data
(faceflow.albums.erase_user_albums); common.erasure runs both.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from common import aws
from common.erasure import register
from common.observability import logger as log
from style_backend import config, keys
from style_backend.config import EnvVar
from style_backend.process import ERASURE_RECORD_TTL_SECONDS, ProcessStore
from style_backend.tables import PROCESS_BY_USER

MAX_DELETE_OBJECTS = 1000  # S3 DeleteObjects limit per call


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


def inference_objects(
    bucket: str, process_id: str, resource_id: str, *uris: str | None
) -> list[str]:
    """One style's objects outside the user's prefixes: its inference request, and the
    output/failure objects at the given S3 URIs (only those in this bucket under inference/)."""
    found = [keys.inference_request_key(process_id, resource_id)]
    for value in uris:
        try:
            uri_bucket, key = keys.parse_s3_uri(value or "")
        except ValueError:
            continue
        if uri_bucket == bucket and key.startswith(keys.INFERENCE):
            found.append(key)
    return found


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
    for resource_id, style in (process.get("styles") or {}).items():
        locations = (style.get("outputLocation"), style.get("failureLocation"))
        yield from inference_objects(bucket, process["processId"], resource_id, *locations)[1:]


@register("styling")
def erase_user(user_id: str) -> dict[str, int]:
    """Delete the user's objects, then their items in every table. Returns counts."""
    from boto3.dynamodb.conditions import Key

    bucket = config.get(EnvVar.BUCKET_NAME)
    store = ProcessStore()
    store.mark_user_erased(user_id)  # first: steps finishing after this point clean up
    display = aws.table(config.get(EnvVar.DISPLAY_TABLE))
    history = aws.table(config.get(EnvVar.DISPLAY_HISTORY_TABLE))
    agreements = aws.table(config.get(EnvVar.USER_AGREEMENT_TABLE))

    owned = list(
        _query_all(
            store.table, IndexName=PROCESS_BY_USER, KeyConditionExpression=Key("userId").eq(user_id)
        )
    )
    # The GSI may project keys only: read each process for its styles.
    full = [store.get(p["processId"]) or p for p in owned]

    def user_objects() -> Iterator[str]:
        for prefix in keys.USER_PREFIXES:
            yield from _keys_under(bucket, f"{prefix}{user_id}/")
        for process in full:
            yield from _inference_keys(bucket, process)

    # Consistent reads: a row written just before this erasure must be found.
    by_user = {"KeyConditionExpression": Key("userId").eq(user_id), "ConsistentRead": True}
    objects = delete_objects(bucket, user_objects())
    tombstone_ttl = int(time.time()) + ERASURE_RECORD_TTL_SECONDS
    summary = {
        "objects": objects,
        "processes": sum(store.tombstone(p["processId"], tombstone_ttl) for p in full),
        "results": _delete_items(display, ("userId", "resultId"), _query_all(display, **by_user)),
        "history": _delete_items(history, ("userId", "shownAt"), _query_all(history, **by_user)),
        "agreements": _delete_items(
            agreements, ("userId", "termsVersion"), _query_all(agreements, **by_user)
        ),
    }
    log.info("user's styling data erased", extra={"userId": user_id, **summary})
    return summary
