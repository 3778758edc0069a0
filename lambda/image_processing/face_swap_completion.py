"""Face swap completion (SNS success and error topics of the async endpoint): copy the output
into results/, end the style, add the Display row; the Process closes when every style ended.

Retry-safe order: copy (idempotent) → conditional style update → conditional Display put. A retry
that finds the style already COMPLETED only makes sure the Display row exists. Malformed or
unknown messages are logged and dropped: raising would only make SNS deliver them again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from common import aws, observability
from common.observability import MetricUnit, metrics
from common.observability import logger as log
from facekit import formats
from style_backend import config, erasure, events, keys
from style_backend.config import EnvVar
from style_backend.errors import Failure, Reason
from style_backend.process import DisplayStore, ProcessStore, StyleStatus

_SNIFF_BYTES = 4096  # enough to tell an image from a JSON error body, and to quote the error


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
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
    bucket = config.get(EnvVar.BUCKET_NAME)
    objects = erasure.inference_objects(
        bucket, note.process_id, note.resource_id, note.output_location, note.failure_location
    )
    if process is not None:
        objects.append(keys.result_key(process["userId"], note.process_id, note.resource_id))
        DisplayStore().remove(process, note.resource_id)
    erasure.delete_objects(bucket, objects)


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
            raise Failure(Reason.SWAP_FAILED, _failure_message(note))
        result_key = _store_result(note, process)
    except Failure as failure:
        if store.finish_style(note.process_id, note.resource_id, failure=failure) is not None:
            metrics.add_metric(name="StylesFailed", unit=MetricUnit.Count, value=1)
        slog.info("style failed", extra={"reason": failure.message})
        return
    if store.finish_style(note.process_id, note.resource_id, result_key=result_key) is None:
        now = store.get(note.process_id)
        status = ((now or {}).get("styles", {}).get(note.resource_id) or {}).get("status")
        if status != StyleStatus.COMPLETED:
            # Ended otherwise meanwhile (or erased: complete() then deletes the rest): the copy
            # made above must not outlive its style.
            aws.client("s3").delete_object(Bucket=config.get(EnvVar.BUCKET_NAME), Key=result_key)
            slog.info("dropped: style ended meanwhile", extra={"status": status})
            return
    DisplayStore().add(process, note.resource_id, result_key)
    metrics.add_metric(name="StylesCompleted", unit=MetricUnit.Count, value=1)
    latency = swap_latency_ms(style)
    if latency is not None:
        metrics.add_metric(name="SwapLatency", unit=MetricUnit.Milliseconds, value=latency)
    slog.info("style completed", extra={"resultKey": result_key, "swapLatencyMs": latency})


def swap_latency_ms(style: dict[str, Any]) -> float | None:
    """From the swap's claim of the style (its request to the endpoint) to now."""
    claimed = style.get("claimedAt")
    if not isinstance(claimed, str):
        return None
    try:
        started = datetime.fromisoformat(claimed.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (datetime.now(UTC) - started).total_seconds() * 1000)


def _store_result(note: events.InferenceNotification, process: dict[str, Any]) -> str:
    """Copy the endpoint's output to results/ and return its key; Failure if it is no image."""
    bucket = config.get(EnvVar.BUCKET_NAME)
    try:
        out_bucket, out_key = keys.parse_s3_uri(note.output_location or "")
    except ValueError:
        raise Failure(Reason.SWAP_FAILED, "The styling service returned no picture.") from None
    if out_bucket != bucket or not out_key.startswith(keys.INFERENCE_OUT):
        raise Failure(Reason.SWAP_FAILED, "The styling service wrote its picture elsewhere.")
    s3 = aws.client("s3")
    try:
        head = s3.get_object(Bucket=bucket, Key=out_key, Range=f"bytes=0-{_SNIFF_BYTES - 1}")
    except Exception as err:
        if aws.error_code(err) is None:
            raise
        # Missing (404, or 403 without ListBucket), empty (416) or refused: retrying cannot help.
        if aws.is_transient(err):
            raise
        raise Failure(Reason.SWAP_FAILED, "The styled picture is missing.") from None
    start = head["Body"].read()
    fmt = formats.sniff_format(start)
    if fmt is None:  # the container answered with a JSON error body
        raise Failure(Reason.SWAP_FAILED, _error_text(start))
    result_key = keys.result_key(process["userId"], note.process_id, note.resource_id)
    try:
        s3.copy_object(
            CopySource={"Bucket": bucket, "Key": out_key},
            Bucket=bucket,
            Key=result_key,
            ContentType=formats.CONTENT_TYPES[fmt],
            MetadataDirective="REPLACE",
        )
    except Exception as err:  # gone since the read (erased meanwhile): as missing
        if aws.error_code(err) is None or aws.is_transient(err):
            raise
        raise Failure(Reason.SWAP_FAILED, "The styled picture is missing.") from None
    return result_key


def _failure_message(note: events.InferenceNotification) -> str:
    reason = note.failure_reason or "no reason given"
    return f"The style could not be applied: {reason}"[:300]


def _error_text(body: bytes) -> str:
    try:
        parsed = json.loads(body)
        err = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        detail = err.get("message") if isinstance(err, dict) else None
        text = str(detail or err)
    except (ValueError, UnicodeDecodeError):
        text = body[:200].decode("utf-8", "replace")
    return f"The style could not be applied: {text}"[:300]
