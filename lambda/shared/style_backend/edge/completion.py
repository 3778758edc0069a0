"""Face swap completion (SNS success and error topics of the async endpoint): copy the output
into results/, end the style, add the Display row; the Process closes when every style ended.

Retry-safe order: copy (idempotent) → conditional style update → conditional Display put. A retry
that finds the style already COMPLETED only makes sure the Display row exists. Malformed or
unknown messages are logged and dropped: raising would only make SNS deliver them again.
"""

from __future__ import annotations

from typing import Any

from common import observability
from common.observability import MetricUnit, metrics
from common.observability import logger as log
from facekit import formats
from style_backend.domain import swap
from style_backend.domain.errors import Failure
from style_backend.domain.process import StyleStatus, swap_latency_ms
from style_backend.edge import events
from style_backend.storage import keys, objects
from style_backend.storage.display import DisplayStore
from style_backend.storage.processes import ProcessStore


def complete_all(event: dict[str, Any]) -> None:
    """Each inference notification of the SNS event; anything else is logged and dropped."""
    for message in events.sns_messages(event):
        try:
            note = events.parse_inference_notification(message)
        except events.MalformedNotification as err:
            log.warning("dropped: not one of our inference notifications", extra={"why": str(err)})
            continue
        complete(note)


def complete(note: events.InferenceNotification) -> None:
    slog = observability.bind(log, processId=note.process_id, resourceId=note.resource_id)
    store = ProcessStore()
    process = store.get(note.process_id)
    if store.lost_to_erasure(note.process_id, process):
        _discard(note, None)  # the answer of a request sent before or during an erasure
        slog.info("discarded: the process was erased")
        return
    _complete(store, note, process, slog)
    if store.lost_to_erasure(note.process_id):  # erased while completing: nothing may stay
        _discard(note, process)
        slog.info("discarded: the process was erased meanwhile")


def _discard(note: events.InferenceNotification, process: dict[str, Any] | None) -> None:
    """Delete everything this style's inference left: request, output or failure object, and,
    when the process was read before its erasure, the result copy and Display row."""
    bucket = objects.bucket()
    found = keys.inference_objects(
        bucket, note.process_id, note.resource_id, note.output_location, note.failure_location
    )
    if process is not None:
        found.append(keys.result_key(process["userId"], note.process_id, note.resource_id))
        DisplayStore().remove(process, note.resource_id)
    objects.delete_objects(bucket, found)


def _complete(
    store: ProcessStore, note: events.InferenceNotification, process: dict[str, Any], slog: Any
) -> None:
    style = process.get("styles", {}).get(note.resource_id)
    if style is None:
        slog.warning("dropped: unknown style")
        return
    if style["status"] == StyleStatus.FAILED:
        slog.info("duplicate: style already failed")
        return
    if style["status"] == StyleStatus.COMPLETED:
        DisplayStore().add(process, note.resource_id, style["resultKey"])  # no-op unless retried
        slog.info("duplicate: style already completed")
        return

    try:
        if not note.succeeded:
            raise swap.inference_failed(note.failure_reason)
        result_key = _store_result(note, process)
    except Failure as failure:
        if store.finish_style(note.process_id, note.resource_id, failure=failure) is not None:
            metrics.add_metric(name="StylesFailed", unit=MetricUnit.Count, value=1)
        slog.info("style failed", extra={"reason": failure.message})
        return
    if not _finish(store, note, result_key, slog):
        return
    DisplayStore().add(process, note.resource_id, result_key)
    metrics.add_metric(name="StylesCompleted", unit=MetricUnit.Count, value=1)
    latency = swap_latency_ms(style)
    if latency is not None:
        metrics.add_metric(name="SwapLatency", unit=MetricUnit.Milliseconds, value=latency)
    slog.info("style completed", extra={"resultKey": result_key, "swapLatencyMs": latency})


def _finish(
    store: ProcessStore, note: events.InferenceNotification, result_key: str, slog: Any
) -> bool:
    """End the style COMPLETED; False (the copy deleted) when it ended otherwise meanwhile."""
    if store.finish_style(note.process_id, note.resource_id, result_key=result_key) is not None:
        return True
    now = store.get(note.process_id)
    status = ((now or {}).get("styles", {}).get(note.resource_id) or {}).get("status")
    if status == StyleStatus.COMPLETED:
        return True
    # Ended otherwise meanwhile (or erased: complete() then deletes the rest): the copy made
    # before must not outlive its style.
    objects.delete(objects.bucket(), result_key)
    slog.info("dropped: style ended meanwhile", extra={"status": status})
    return False


def _store_result(note: events.InferenceNotification, process: dict[str, Any]) -> str:
    """Copy the endpoint's output to results/ and return its key; Failure if it is no image."""
    bucket = objects.bucket()
    try:
        out_bucket, out_key = keys.parse_s3_uri(note.output_location or "")
    except ValueError:
        raise swap.no_picture() from None
    if out_bucket != bucket or not out_key.startswith(keys.INFERENCE_OUT):
        raise swap.picture_elsewhere()
    start = objects.read_start(bucket, out_key, swap.SNIFF_BYTES)
    fmt = formats.sniff_format(start)
    if fmt is None:  # the container answered with a JSON error body
        raise swap.error_answer(start)
    result_key = keys.result_key(process["userId"], note.process_id, note.resource_id)
    objects.copy(bucket, out_key, result_key, formats.CONTENT_TYPES[fmt])
    return result_key
