"""Face swap (S3 ObjectCreated on crops/): for each requested style still PENDING, write the
request JSON and call InvokeEndpointAsync with a deterministic inference id, then mark the style
SWAPPING. The answer arrives later through SNS (face_swap_completion).

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

import base64
import json
from typing import Any

from common import aws, observability
from common.observability import logger as log
from style_backend import config, erasure, events, keys
from style_backend.config import EnvVar
from style_backend.errors import Failure, Reason
from style_backend.process import ProcessStore, Status, StyleStatus, process_of_object

# Backoff of the explicit retry loop (seconds); tests shorten it.
RETRY_BASE_DELAY = 0.25
RETRY_ATTEMPTS = 4


class ClaimNotConfirmed(RuntimeError):
    """Another delivery holds a style's claim and its request has not been confirmed: retry."""


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    for obj in events.s3_objects(event):
        request_styles(obj)


def request_styles(obj: events.S3Object) -> None:
    store = ProcessStore()
    found = process_of_object(store, obj, keys.parse_crop_key, log)
    if found is None:
        return
    ref, process, plog = found
    if process["status"] == Status.CREATED:
        # The crop handler writes the crop before its status update: this event can win the race.
        store.mark_cropped(ref.process_id, obj.key)
        process = store.get(ref.process_id)
    if process["status"] not in (Status.CROPPED, Status.SWAPPING):
        plog.info("dropped: process already ended", extra={"status": process["status"]})
        return
    held = []
    for resource_id in process["resourceIds"]:
        style = process["styles"][resource_id]
        open_style = style["status"] == StyleStatus.PENDING or _unconfirmed(style)
        # The claim decides; False: another delivery holds it, its request not confirmed yet.
        if open_style and not request_style(
            store, obj.bucket, obj.key, ref.process_id, resource_id
        ):
            held.append(resource_id)
    if held:
        plog.warning("claims not confirmed yet: the event will be retried", extra={"held": held})
        raise ClaimNotConfirmed(f"{ref.process_id}: {', '.join(held)}")


def _unconfirmed(style: dict[str, Any]) -> bool:
    return style["status"] == StyleStatus.SWAPPING and "outputLocation" not in style


def request_style(
    store: ProcessStore, bucket: str, crop_key: str, process_id: str, resource_id: str
) -> bool:
    """Request one style; False when another delivery holds its claim unconfirmed."""
    slog = observability.bind(log, processId=process_id, resourceId=resource_id)
    base = _active_base_resource(resource_id)
    if base is None:
        failure = Failure(Reason.STYLE_NOT_FOUND, "This style is not available any more.")
        store.finish_style(process_id, resource_id, failure=failure)
        slog.info("style failed", extra={"code": failure.code})
        return True

    inference_id = keys.inference_id(process_id, resource_id)
    if not store.mark_style_swapping(process_id, resource_id, inference_id):
        now = store.get(process_id) or {}
        style = (now.get("styles") or {}).get(resource_id)
        if style is not None and now.get("status") == Status.SWAPPING and _unconfirmed(style):
            slog.info("held: another delivery's claim, its request not confirmed yet")
            return False
        slog.info("duplicate: another delivery already requested this style")
        return True
    if store.lost_to_erasure(process_id):  # erased since the claim: no GPU work for it
        slog.info("dropped: the process was erased")
        return True
    try:
        request_key = _write_request(bucket, crop_key, base, process_id, resource_id)
        response = _invoke(bucket, request_key, inference_id)
    except Failure as failure:  # an image the request cannot carry: no retry changes that
        store.finish_style(process_id, resource_id, failure=failure)
        slog.info("style failed", extra={"code": failure.code})
        return True
    except Exception as err:
        if aws.error_code(err) is not None and not aws.is_transient(err):
            slog.error("endpoint refused the request", extra={"error": str(err)})
            failure = Failure(
                Reason.SWAP_FAILED, "The styling service could not take this request."
            )
            store.finish_style(process_id, resource_id, failure=failure)
            return True
        store.release_style(process_id, resource_id, inference_id)
        slog.warning("request did not reach the endpoint: the event will be retried")
        raise
    store.record_output_locations(
        process_id, resource_id, response.get("OutputLocation"), response.get("FailureLocation")
    )
    if store.lost_to_erasure(process_id):  # erased during the call: its answer goes at completion
        erasure.delete_objects(bucket, [request_key])
        slog.info("discarded: the process was erased while its request went out")
        return True
    slog.info("swap requested", extra={"inferenceId": inference_id})
    return True


def _write_request(
    bucket: str, crop_key: str, base: dict[str, Any], process_id: str, resource_id: str
) -> str:
    """The request JSON SageMaker hands the endpoint, both images in it; returns its key."""
    request_key = keys.inference_request_key(process_id, resource_id)
    target_key = base.get("imageKey") or keys.base_key(resource_id)
    request = {
        "source": {"b64": _inline(bucket, crop_key, "face crop")},
        "target": {"b64": _inline(bucket, target_key, "style image")},
        "options": {},
        "processId": process_id,
        "resourceId": resource_id,
    }
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=request_key,
        Body=json.dumps(request).encode(),
        ContentType="application/json",
    )
    return request_key


def _inline(bucket: str, key: str, what: str) -> str:
    """The object's bytes as base64; a missing or oversized image is this style's Failure."""
    s3 = aws.client("s3")
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except Exception as err:
        if aws.error_code(err) in ("NoSuchKey", "404"):
            code = Reason.STYLE_NOT_FOUND if what == "style image" else Reason.SWAP_FAILED
            raise Failure(code, f"The {what} is not available any more.") from None
        raise  # throttling, 5xx, access denied: the caller's retry rules apply
    if obj["ContentLength"] > keys.INFERENCE_IMAGE_MAX_BYTES:
        obj["Body"].close()
        raise Failure(Reason.FILE_TOO_LARGE, f"The {what} is too large to style.")
    return base64.b64encode(obj["Body"].read()).decode()


def _invoke(bucket: str, request_key: str, inference_id: str) -> dict[str, Any]:
    """Hand the request to the async endpoint (transient errors retried)."""
    runtime = aws.client("sagemaker-runtime")
    return aws.retry_transient(
        lambda: runtime.invoke_endpoint_async(
            EndpointName=config.get(EnvVar.ENDPOINT_NAME),
            InputLocation=keys.s3_uri(bucket, request_key),
            ContentType="application/json",
            InferenceId=inference_id,
        ),
        attempts=RETRY_ATTEMPTS,
        base_delay=RETRY_BASE_DELAY,
    )


def _active_base_resource(resource_id: str) -> dict[str, Any] | None:
    table = aws.table(config.get(EnvVar.BASE_RESOURCE_TABLE))
    item = table.get_item(Key={"resourceId": resource_id}).get("Item")
    return item if item and item.get("active") else None
