"""Face crop (S3 ObjectCreated on uploads/): the selfie becomes the aligned 512×512 face crop in
crops/ and the Process goes CREATED → CROPPED, or FAILED with a reason the client can show.

Retry-safe order: the crop is written first, then the conditional status update. A duplicate
event finds the status no longer CREATED and does nothing; the face swap accepts a crop whose
status update has not landed yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import observability
from common.observability import logger as log
from facekit import faces
from style_backend import config
from style_backend.domain.errors import Failure, Reason
from style_backend.domain.process import Status
from style_backend.edge import events
from style_backend.storage import keys, objects
from style_backend.storage.processes import ProcessStore
from style_backend.storage.routing import process_of_object

if TYPE_CHECKING:
    import numpy as np


def crop_uploads(event: dict[str, Any]) -> None:
    """The S3 event's uploads, one after the other."""
    for obj in events.s3_objects(event):
        crop_upload(obj)


def crop_upload(obj: events.S3Object) -> None:
    store = ProcessStore()
    found = process_of_object(store, obj.bucket, obj.key, keys.parse_upload_key, log)
    if found is None:
        return
    ref, process, plog = found
    if process["sourceKey"] != obj.key:
        plog.warning("dropped: not this process's upload", extra={"key": obj.key})
        return
    if process["status"] != Status.CREATED:
        plog.info("duplicate: already past CREATED", extra={"status": process["status"]})
        return

    try:
        crop = crop_face(obj)
    except Failure as failure:
        store.mark_failed(ref.process_id, failure)
        observability.count("CropsFailed", reason=str(failure.code))
        plog.info("failed", extra={"code": failure.code, "reason": failure.message})
        return
    if crop is None:
        plog.warning("dropped: the upload is gone", extra={"key": obj.key})
        return

    crop_key = keys.crop_key(ref.user_id, ref.process_id)
    objects.put(obj.bucket, crop_key, faces.encode_crop(crop), "image/jpeg")
    moved = store.mark_cropped(ref.process_id, crop_key)
    if store.lost_to_erasure(ref.process_id):  # erased while cropping: nothing may stay
        objects.delete_objects(obj.bucket, [crop_key, obj.key])
        plog.info("discarded: the process was erased meanwhile", extra={"key": crop_key})
        return
    plog.info("cropped" if moved else "cropped (status already moved on)", extra={"key": crop_key})


def crop_face(obj: events.S3Object) -> np.ndarray | None:
    """The aligned crop of the upload's main face; None when the object no longer exists."""
    max_bytes = config.max_upload_bytes()
    data = objects.read_upload(obj.bucket, obj.key, max_bytes)
    if data is None:
        return None
    try:
        return faces.crop_from_upload(data, max_bytes=max_bytes)
    except Failure as failure:
        if failure.__cause__ is not None and failure.code == Reason.UNREADABLE_IMAGE:
            log.error("decoder error", exc_info=failure.__cause__, extra={"key": obj.key})
        raise
