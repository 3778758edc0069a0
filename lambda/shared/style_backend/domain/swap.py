"""The swap request the async endpoint is handed, and what its answers mean to a style.

The request carries both images inline (base64): the model container runs network-isolated and
reads nothing itself; SageMaker hands it the request and stores its answer.
"""

from __future__ import annotations

import json

from style_backend.domain.errors import Failure, Reason

# The most one image inline in an inference request may weigh (the face crop, the style image):
# the swap function refuses more, the container refuses more. The network-isolated container
# reads nothing itself, so the request carries both (SageMaker's async payload limit is 1 GB).
INFERENCE_IMAGE_MAX_BYTES = 20 * 1024 * 1024
# The first bytes of an answer: enough to tell an image from a JSON error body, and to quote it.
SNIFF_BYTES = 4096

STYLE_GONE = Failure(Reason.STYLE_NOT_FOUND, "This style is not available any more.")
REFUSED = Failure(Reason.SWAP_FAILED, "The styling service could not take this request.")


def no_picture() -> Failure:
    return Failure(Reason.SWAP_FAILED, "The styling service returned no picture.")


def picture_elsewhere() -> Failure:
    return Failure(Reason.SWAP_FAILED, "The styling service wrote its picture elsewhere.")


def picture_missing() -> Failure:
    return Failure(Reason.SWAP_FAILED, "The styled picture is missing.")


def request_body(source_b64: str, target_b64: str, process_id: str, resource_id: str) -> bytes:
    """The request JSON: the face crop (source) goes onto the style image (target)."""
    request = {
        "source": {"b64": source_b64},
        "target": {"b64": target_b64},
        "options": {},
        "processId": process_id,
        "resourceId": resource_id,
    }
    return json.dumps(request).encode()


def image_gone(what: str, style_image: bool) -> Failure:
    """An image the request should inline no longer exists: the style's or the crop's."""
    code = Reason.STYLE_NOT_FOUND if style_image else Reason.SWAP_FAILED
    return Failure(code, f"The {what} is not available any more.")


def image_too_large(what: str) -> Failure:
    return Failure(Reason.FILE_TOO_LARGE, f"The {what} is too large to style.")


def inference_failed(failure_reason: str | None) -> Failure:
    """The endpoint's failure notification, as the style's reason."""
    reason = failure_reason or "no reason given"
    return Failure(Reason.SWAP_FAILED, f"The style could not be applied: {reason}"[:300])


def error_answer(body: bytes) -> Failure:
    """The container answered with an error body (JSON, or anything) instead of a picture."""
    try:
        parsed = json.loads(body)
        err = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        detail = err.get("message") if isinstance(err, dict) else None
        text = str(detail or err)
    except (ValueError, UnicodeDecodeError):
        text = body[:200].decode("utf-8", "replace")
    return Failure(Reason.SWAP_FAILED, f"The style could not be applied: {text}"[:300])
