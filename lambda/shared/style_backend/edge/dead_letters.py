"""Pipeline events that failed every retry: their process or styles end FAILED, none hangs.

Face crop, face swap and completion are invoked asynchronously with 2 retries within a maximum
event age; an event that still fails goes to the function's on-failure queue. Consumed from there
(one SQS event source per queue), the event ends what it would have moved on: an upload event its
process, if still uncropped (CREATED); a crop event every style whose request never reached the
endpoint; a completion event its style. So a process is FAILED with a reason, not CREATED or
SWAPPING forever, within the retry budget (the configured deadline), and every write is
conditional: a duplicate, or a process or style that moved on meanwhile, changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from common.observability import logger as log
from style_backend.domain.errors import Failure, Reason
from style_backend.domain.process import Status
from style_backend.edge import events
from style_backend.storage import keys
from style_backend.storage.processes import ProcessStore

CROP_NOT_DONE = Failure(
    Reason.CROP_FAILED, "Your photo could not be processed; please try again later."
)
SWAP_NOT_REQUESTED = Failure(
    Reason.SWAP_FAILED, "The styling service could not be reached; please try again later."
)
RESULT_NOT_STORED = Failure(
    Reason.SWAP_FAILED, "The styled picture could not be stored; please try again later."
)


def end_batch(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of dead letters. An unreadable message is logged and dropped; a failing write
    is reported for that message alone (a partial batch response), which SQS then redelivers."""
    failures = []
    for record in event.get("Records") or []:
        try:
            original = original_event(record["body"])
        except (KeyError, TypeError, ValueError):
            log.error("dropped: unreadable dead letter", extra={"id": record.get("messageId")})
            continue
        try:
            end_exhausted(original)
        except Exception:
            log.exception("dead letter not handled yet", extra={"id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def original_event(body: str) -> dict[str, Any]:
    """The event a dead letter carries: an on-failure destination record (what Lambda sends)
    holds it as `requestPayload`; a plain dead-letter message is the event itself."""
    record = json.loads(body)
    if not isinstance(record, dict):
        raise ValueError("not an event")
    payload = record.get("requestPayload", record)
    if not isinstance(payload, dict):
        raise ValueError("not an event")
    return payload


def end_exhausted(event: dict[str, Any]) -> int:
    """End what the exhausted event left open; returns how many processes (an upload's) or
    styles (a crop's, a completion's) it ended."""
    store = ProcessStore()
    ended = 0
    for obj in events.s3_objects(event):
        if obj.key.startswith(keys.UPLOADS):
            ended += _end_upload(store, obj.key)
        else:
            ended += _end_crop(store, obj.key)
    for message in events.sns_messages(event):
        try:
            note = events.parse_inference_notification(message)
        except events.MalformedNotification as err:
            log.warning("dead letter not handled: not an inference note", extra={"why": str(err)})
            continue
        ended += _end(store, note.process_id, note.resource_id, RESULT_NOT_STORED, False)
    return ended


def _end_crop(store: ProcessStore, key: str) -> int:
    try:
        ref = keys.parse_crop_key(key)
    except keys.InvalidKey:
        log.warning("dead letter not handled: not a crop", extra={"key": key})
        return 0
    process = store.get(ref.process_id)
    if process is None or process.get("userId") != ref.user_id:
        return 0  # erased, or not this key's process: nothing to end
    return sum(
        _end(store, ref.process_id, resource_id, SWAP_NOT_REQUESTED, True)
        for resource_id in process.get("resourceIds", [])
    )


def _end_upload(store: ProcessStore, key: str) -> int:
    try:
        ref = keys.parse_upload_key(key)
    except keys.InvalidKey:
        log.warning("dead letter not handled: not an upload", extra={"key": key})
        return 0
    process = store.get(ref.process_id)
    if process is None or process.get("userId") != ref.user_id or process["sourceKey"] != key:
        return 0  # erased, or not this key's process: nothing to end
    if not store.mark_failed(ref.process_id, CROP_NOT_DONE, only_from=Status.CREATED):
        return 0  # cropped (or failed, erased) meanwhile
    log.error(
        "process FAILED: its upload event exhausted every retry",
        extra={"processId": ref.process_id, "code": CROP_NOT_DONE.code},
    )
    return 1


def _end(
    store: ProcessStore, process_id: str, resource_id: str, failure: Failure, unrequested: bool
) -> int:
    item = store.finish_style(
        process_id, resource_id, failure=failure, unrequested_only=unrequested
    )
    if item is None:
        return 0  # ended meanwhile, requested after all, or erased
    log.error(
        "style FAILED: its event exhausted every retry",
        extra={"processId": process_id, "resourceId": resource_id, "code": failure.code},
    )
    return 1
