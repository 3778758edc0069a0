"""Face swap (S3 ObjectCreated on crops/): for each requested style still PENDING, write the
request JSON and call InvokeEndpointAsync with a deterministic inference id, then mark the style
SWAPPING. The answer arrives later through SNS (style_backend.edge.completion).

The request carries both images inline (base64): the model container runs network-isolated and
reads nothing itself; SageMaker hands it the request and stores its answer.

Throttling and 5xx are retried here with backoff, then raised so the asynchronous invocation
retries the event (styles already SWAPPING are skipped then). Permanent errors fail the style.

A style claimed by another delivery whose request is not confirmed yet (no output location) is
never dropped as a duplicate: that claimant may have crashed mid-request. The event is raised back
for a later retry, which finds the request confirmed, or takes the claim over once its lease ran
out, or (retries exhausted) reaches the dead-letter function, which ends the style FAILED.
"""

from __future__ import annotations

from typing import Any

from common import aws, observability
from common.observability import logger as log
from style_backend.domain import swap
from style_backend.domain.errors import Failure
from style_backend.domain.process import Status, open_to_request, unconfirmed
from style_backend.edge import events
from style_backend.storage import endpoint, keys, objects
from style_backend.storage.processes import ProcessStore
from style_backend.storage.routing import process_of_object
from style_backend.storage.styles import StyleCatalog, image_key

# Backoff of the explicit retry loop (seconds); tests shorten it.
RETRY_BASE_DELAY = 0.25
RETRY_ATTEMPTS = 4


class ClaimNotConfirmed(RuntimeError):
    """Another delivery holds a style's claim and its request has not been confirmed: retry."""


def request_crops(event: dict[str, Any]) -> None:
    """The S3 event's crops, one after the other."""
    for obj in events.s3_objects(event):
        request_styles(obj)


def request_styles(obj: events.S3Object) -> None:
    store = ProcessStore()
    found = process_of_object(store, obj.bucket, obj.key, keys.parse_crop_key, log)
    if found is None:
        return
    ref, process, plog = found
    if process["status"] == Status.CREATED:
        # The crop step writes the crop before its status update: this event can win the race.
        store.mark_cropped(ref.process_id, obj.key)
        process = store.get(ref.process_id)
    if process["status"] not in (Status.CROPPED, Status.SWAPPING):
        plog.info("dropped: process already ended", extra={"status": process["status"]})
        return
    held = []
    for resource_id in process["resourceIds"]:
        # The claim decides; False: another delivery holds it, its request not confirmed yet.
        if open_to_request(process["styles"][resource_id]) and not request_style(
            store, obj.bucket, obj.key, ref.process_id, resource_id
        ):
            held.append(resource_id)
    if held:
        plog.warning("claims not confirmed yet: the event will be retried", extra={"held": held})
        raise ClaimNotConfirmed(f"{ref.process_id}: {', '.join(held)}")


def request_style(
    store: ProcessStore, bucket: str, crop_key: str, process_id: str, resource_id: str
) -> bool:
    """Request one style; False when another delivery holds its claim unconfirmed."""
    slog = observability.bind(log, processId=process_id, resourceId=resource_id)
    base = StyleCatalog().get_active(resource_id)
    if base is None:
        return _fail(store, process_id, resource_id, swap.STYLE_GONE, slog)

    inference_id = keys.inference_id(process_id, resource_id)
    if not store.mark_style_swapping(process_id, resource_id, inference_id):
        return not _held_elsewhere(store, process_id, resource_id, slog)
    if store.lost_to_erasure(process_id):  # erased since the claim: no GPU work for it
        slog.info("dropped: the process was erased")
        return True
    try:
        request_key = _write_request(bucket, crop_key, base, process_id, resource_id)
        response = endpoint.invoke_async(
            bucket, request_key, inference_id, attempts=RETRY_ATTEMPTS, base_delay=RETRY_BASE_DELAY
        )
    except Failure as failure:  # an image the request cannot carry: no retry changes that
        return _fail(store, process_id, resource_id, failure, slog)
    except Exception as err:
        if aws.error_code(err) is not None and not aws.is_transient(err):
            slog.error("endpoint refused the request", extra={"error": str(err)})
            store.finish_style(process_id, resource_id, failure=swap.REFUSED)
            return True
        store.release_style(process_id, resource_id, inference_id)
        slog.warning("request did not reach the endpoint: the event will be retried")
        raise
    store.record_output_locations(
        process_id, resource_id, response.get("OutputLocation"), response.get("FailureLocation")
    )
    if store.lost_to_erasure(process_id):  # erased during the call: its answer goes at completion
        objects.delete_objects(bucket, [request_key])
        slog.info("discarded: the process was erased while its request went out")
        return True
    slog.info("swap requested", extra={"inferenceId": inference_id})
    return True


def _fail(
    store: ProcessStore, process_id: str, resource_id: str, failure: Failure, slog: Any
) -> bool:
    store.finish_style(process_id, resource_id, failure=failure)
    slog.info("style failed", extra={"code": failure.code})
    return True


def _held_elsewhere(store: ProcessStore, process_id: str, resource_id: str, slog: Any) -> bool:
    """After a lost claim: whether another delivery holds it, its request not confirmed yet."""
    now = store.get(process_id) or {}
    style = (now.get("styles") or {}).get(resource_id)
    if style is not None and now.get("status") == Status.SWAPPING and unconfirmed(style):
        slog.info("held: another delivery's claim, its request not confirmed yet")
        return True
    slog.info("duplicate: another delivery already requested this style")
    return False


def _write_request(
    bucket: str, crop_key: str, base: dict[str, Any], process_id: str, resource_id: str
) -> str:
    """The request JSON SageMaker hands the endpoint, both images in it; returns its key."""
    request_key = keys.inference_request_key(process_id, resource_id)
    body = swap.request_body(
        objects.read_inline(bucket, crop_key, "face crop"),
        objects.read_inline(bucket, image_key(base), "style image"),
        process_id,
        resource_id,
    )
    objects.put(bucket, request_key, body, "application/json")
    return request_key
