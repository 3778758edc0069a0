"""The pipeline's on-failure queues (SQS event source): an event that failed every retry ends
its styles FAILED with a reason (style_backend.dead_letters). An unreadable message is logged
and dropped; a failing write is reported for that message alone, which SQS then redelivers."""

from __future__ import annotations

from typing import Any

from common import observability
from common.observability import logger as log
from style_backend import dead_letters


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    failures = []
    for record in event.get("Records") or []:
        try:
            original = dead_letters.original_event(record["body"])
        except (KeyError, TypeError, ValueError):
            log.error("dropped: unreadable dead letter", extra={"id": record.get("messageId")})
            continue
        try:
            dead_letters.end_exhausted(original)
        except Exception:
            log.exception("dead letter not handled yet", extra={"id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
