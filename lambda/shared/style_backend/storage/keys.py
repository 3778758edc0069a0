"""Object keys in the base bucket. Keys are '/'-separated and carry ids only.

Identities are never parsed with split('-'): a Cognito sub contains hyphens. Everything that is not
an id lives in the Process item.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

UPLOADS = "uploads/"
CROPS = "crops/"
BASE = "base/"
INFERENCE = "inference/"  # requests, outputs and failures below
INFERENCE_IN = "inference/in/"
INFERENCE_OUT = "inference/out/"
INFERENCE_FAILED = "inference/failed/"
RESULTS = "results/"

# The most one image inline in an inference request may weigh (the face crop, the style image):
# the swap function refuses more, the container refuses more. The network-isolated container
# reads nothing itself, so the request carries both (SageMaker's async payload limit is 1 GB).
INFERENCE_IMAGE_MAX_BYTES = 20 * 1024 * 1024

# Prefixes holding a user's own data, erased on request (right to erasure).
USER_PREFIXES = (UPLOADS, CROPS, RESULTS)

UPLOAD_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

_INFERENCE_NS = uuid.UUID("5b6f2f4e-3d1a-4c61-9a43-6f1d2b0c7e11")
_ID = r"[A-Za-z0-9_:@+=-][A-Za-z0-9_.:@+=-]{0,127}"  # no leading dot: no ".." segments
_UPLOAD_RE = re.compile(rf"^uploads/(?P<user>{_ID})/(?P<process>{_ID})\.(?P<ext>jpg|png|webp)$")
_CROP_RE = re.compile(rf"^crops/(?P<user>{_ID})/(?P<process>{_ID})\.jpg$")


class InvalidKey(ValueError):
    """An object key that does not follow the layout: the event is dropped, never retried."""


@dataclass(frozen=True)
class ProcessRef:
    user_id: str
    process_id: str


def upload_key(user_id: str, process_id: str, content_type: str) -> str:
    return f"{UPLOADS}{user_id}/{process_id}.{UPLOAD_EXTENSIONS[content_type]}"


def crop_key(user_id: str, process_id: str) -> str:
    return f"{CROPS}{user_id}/{process_id}.jpg"


def base_key(resource_id: str) -> str:
    return f"{BASE}{resource_id}.jpg"


def inference_request_key(process_id: str, resource_id: str) -> str:
    return f"{INFERENCE_IN}{process_id}/{resource_id}.json"


def result_key(user_id: str, process_id: str, resource_id: str) -> str:
    return f"{RESULTS}{user_id}/{process_id}/{resource_id}.jpg"


def inference_id(process_id: str, resource_id: str) -> str:
    """Deterministic id for InvokeEndpointAsync (<= 64 chars): a retried swap reuses it."""
    return str(uuid.uuid5(_INFERENCE_NS, f"{process_id}/{resource_id}"))


def parse_upload_key(key: str) -> ProcessRef:
    m = _UPLOAD_RE.match(key)
    if not m:
        raise InvalidKey(f"not an upload key: {key!r}")
    return ProcessRef(m["user"], m["process"])


def parse_crop_key(key: str) -> ProcessRef:
    m = _CROP_RE.match(key)
    if not m:
        raise InvalidKey(f"not a crop key: {key!r}")
    return ProcessRef(m["user"], m["process"])


@dataclass(frozen=True)
class InferenceRef:
    process_id: str
    resource_id: str


_INFERENCE_IN_RE = re.compile(rf"^inference/in/(?P<process>{_ID})/(?P<resource>{_ID})\.json$")


def parse_inference_request_key(key: str) -> InferenceRef:
    m = _INFERENCE_IN_RE.match(key)
    if not m:
        raise InvalidKey(f"not an inference request key: {key!r}")
    return InferenceRef(m["process"], m["resource"])


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """('bucket', 'key') from 's3://bucket/key'; ValueError otherwise. The one parser of S3 URIs
    (the pipeline, erasure, the model server and the local endpoint all use it)."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return bucket, key


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"
