"""S3 object events to their Process: which process an object of the pipeline belongs to, and
whether its event is to be dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common import aws, observability
from style_backend import config
from style_backend.config import EnvVar
from style_backend.storage import keys
from style_backend.storage.processes import ProcessStore


def process_of_object(
    store: ProcessStore,
    bucket: str,
    key: str,
    parse_key: Callable[[str], keys.ProcessRef],
    log: Any,
) -> tuple[keys.ProcessRef, dict[str, Any], Any] | None:
    """The Process an S3 object event belongs to, with a logger bound to its ids; or None (logged)
    when the event must be dropped: a key outside the layout, another bucket, no such process or
    another user's. Dropped events are never retried: nothing would change on a retry. The object
    of an erased (or vanished) process is deleted: erasure must not depend on who came first."""
    try:
        ref = parse_key(key)
    except keys.InvalidKey:
        log.warning("dropped: key outside the layout", extra={"key": key})
        return None
    plog = observability.bind(log, processId=ref.process_id, userId=ref.user_id)
    if bucket != config.get(EnvVar.BUCKET_NAME):
        plog.warning("dropped: foreign bucket", extra={"bucket": bucket})
        return None
    process = store.get(ref.process_id)
    if process is not None and process.get("userId", ref.user_id) != ref.user_id:
        plog.warning("dropped: another user's process", extra={"key": key})
        return None
    if store.lost_to_erasure(ref.process_id, process):
        # Erasure may have listed this prefix before the object landed: it goes now.
        aws.client("s3").delete_object(Bucket=bucket, Key=key)
        plog.info("discarded: the process was erased", extra={"key": key})
        return None
    return ref, process, plog
