"""The /invocations request: parse and validate the JSON, then decode both images.

Shape (docs/architecture.md): {"source": {"b64"}, "target": {"b64"}, "options": {...},
"processId"?, "resourceId"?}. The images travel inside the request: the container runs with
network isolation (no network at all, not even S3), and SageMaker hands it the request body.
Every way it can be wrong is a BadRequest (400).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facechain_serving.errors import BadRequest
from facekit import imaging
from style_backend.domain import swap
from style_backend.domain.errors import Failure, Reason

# One image's bytes: what the swap function inlines at most (style_backend.domain.swap).
MAX_INLINE_BYTES = swap.INFERENCE_IMAGE_MAX_BYTES
# Base64 is 4/3 of the bytes; two images plus the JSON around them.
MAX_BODY_BYTES = 2 * (MAX_INLINE_BYTES * 4 // 3 + 4) + 64 * 1024
MAX_PIXELS = 4096 * 4096

DEFAULT_JPEG_QUALITY = 92
BLEND_MODES = ("feather", "poisson", "laplacian")
# Laplacian kept the most of the uploader's identity while the cpu engine was tuned (the feather
# blend narrows the swapped region, Poisson pulls in the style's colours); compare with
# `benchmarks/bench_swap_quality.py --blend feather|poisson`.
DEFAULT_BLEND = "laplacian"


@dataclass(frozen=True)
class ImageRef:
    role: str  # "source" | "target": named in error messages
    inline: bytes


@dataclass(frozen=True)
class SwapOptions:
    jpeg_quality: int = DEFAULT_JPEG_QUALITY
    blend: str = DEFAULT_BLEND  # cpu engine only; others ignore it


@dataclass(frozen=True)
class SwapRequest:
    source: ImageRef
    target: ImageRef
    options: SwapOptions = field(default_factory=SwapOptions)
    process_id: str | None = None
    resource_id: str | None = None


def parse_request(body: bytes) -> SwapRequest:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(f"body is not valid JSON: {err}") from None
    if not isinstance(doc, dict):
        raise BadRequest("body must be a JSON object")
    return SwapRequest(
        source=_parse_ref(doc, "source"),
        target=_parse_ref(doc, "target"),
        options=_parse_options(doc.get("options", {})),
        process_id=_optional_str(doc, "processId"),
        resource_id=_optional_str(doc, "resourceId"),
    )


def _optional_str(doc: dict, name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _parse_ref(doc: dict, role: str) -> ImageRef:
    ref = doc.get(role)
    if not isinstance(ref, dict):
        raise BadRequest(f"missing field {role!r}: an object with 'b64'")
    if "s3Uri" in ref:
        raise BadRequest(f"{role}.s3Uri: this container has no network; send the image as 'b64'")
    if set(ref) != {"b64"}:
        raise BadRequest(f"{role} must be an object with exactly 'b64'")
    encoded = ref["b64"]
    if not isinstance(encoded, str):
        raise BadRequest(f"{role}.b64 must be a string")
    if len(encoded) > MAX_INLINE_BYTES * 4 // 3 + 4:
        raise BadRequest(f"{role}.b64 is over {MAX_INLINE_BYTES} bytes", code=Reason.FILE_TOO_LARGE)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{role}.b64 is not valid base64") from None
    return ImageRef(role, inline=data)


def _parse_options(options: Any) -> SwapOptions:
    if not isinstance(options, dict):
        raise BadRequest("options must be an object")
    unknown = set(options) - {"jpegQuality", "blend"}
    if unknown:
        raise BadRequest(f"unknown options: {sorted(unknown)}")
    quality = options.get("jpegQuality", DEFAULT_JPEG_QUALITY)
    if not isinstance(quality, int) or isinstance(quality, bool) or not 50 <= quality <= 100:
        raise BadRequest("options.jpegQuality must be an integer from 50 to 100")
    blend = options.get("blend", DEFAULT_BLEND)
    if blend not in BLEND_MODES:
        raise BadRequest(f"options.blend must be one of {list(BLEND_MODES)}")
    return SwapOptions(jpeg_quality=quality, blend=blend)


def decode_rgb(data: bytes, role: str) -> np.ndarray:
    """RGB uint8 pixels through the pipeline's safe decoder; its Failure becomes a 400."""
    try:
        return imaging.decode_image(data, max_pixels=MAX_PIXELS, max_bytes=MAX_INLINE_BYTES).rgb
    except Failure as failure:
        raise BadRequest(f"{role} image: {failure.message}", code=str(failure.code)) from None
