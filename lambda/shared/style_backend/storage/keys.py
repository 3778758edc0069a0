"""The key schema, written once: every object key and prefix of the base bucket, and the table
names the stacks (stacks/ddb) and the queries of this package must agree on (indexes, the TTL
attribute, composed sort and partition keys).

Object keys are '/'-separated and carry ids only. Identities are never parsed with split('-'): a
Cognito sub contains hyphens. Everything that is not an id lives in the Process item.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from style_backend.domain.uploads import UPLOAD_EXTENSIONS

# ---------------------------------------------------------------- objects

UPLOADS = "uploads/"
CROPS = "crops/"
BASE = "base/"
INFERENCE = "inference/"  # requests, outputs and failures below
INFERENCE_IN = "inference/in/"
INFERENCE_OUT = "inference/out/"
INFERENCE_FAILED = "inference/failed/"
RESULTS = "results/"

# Prefixes holding a user's own data, erased on request (right to erasure).
USER_PREFIXES = (UPLOADS, CROPS, RESULTS)

_INFERENCE_NS = uuid.UUID("5b6f2f4e-3d1a-4c61-9a43-6f1d2b0c7e11")
_ID = r"[A-Za-z0-9_:@+=-][A-Za-z0-9_.:@+=-]{0,127}"  # no leading dot: no ".." segments
_UPLOAD_EXT = "|".join(sorted(set(UPLOAD_EXTENSIONS.values())))  # every selfie type's extension
_UPLOAD_RE = re.compile(rf"^uploads/(?P<user>{_ID})/(?P<process>{_ID})\.(?P<ext>{_UPLOAD_EXT})$")
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


def inference_objects(
    bucket: str, process_id: str, resource_id: str, *uris: str | None
) -> list[str]:
    """One style's objects outside the user's prefixes: its inference request, and the
    output/failure objects at the given S3 URIs (only those in this bucket under inference/)."""
    found = [inference_request_key(process_id, resource_id)]
    for value in uris:
        try:
            uri_bucket, key = parse_s3_uri(value or "")
        except ValueError:
            continue
        if uri_bucket == bucket and key.startswith(INFERENCE):
            found.append(key)
    return found


# ---------------------------------------------------------------- tables (stacks/ddb)

# Global secondary indexes.
PROCESS_BY_USER = "byUser"  # Process: userId, createdAt — a user's processes (erasure)
BASE_RESOURCE_BY_STYLE = "byStyle"  # BaseResource: styleKey — one partition per filter combination
# The attribute DynamoDB expires items by (epoch seconds), on tables created with ttl=True.
TTL_ATTRIBUTE = "ttl"
_ERASURE_MARKER_PREFIX = "erasure#"  # never a process id: object keys cannot hold '#'


def result_id(created_at: str, process_id: str, resource_id: str) -> str:
    """Display sort key: time-sortable by the process's creation, unique per style, and the
    same on every retry of the completion (never the time of the retry)."""
    return f"{created_at}#{process_id}#{resource_id}"


def erasure_marker_id(user_id: str) -> str:
    """The Process key of a user's erasure marker: a hash, so that the marker names nobody."""
    return _ERASURE_MARKER_PREFIX + hashlib.sha256(user_id.encode()).hexdigest()


def style_key(theme: str, gender: str, skin_tone: str) -> str:
    """The `byStyle` GSI key: one partition per combination a client filters on."""
    return f"{theme}#{gender}#{skin_tone}"
