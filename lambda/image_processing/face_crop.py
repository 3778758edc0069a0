"""Face crop (S3 ObjectCreated on uploads/): the selfie becomes the aligned 512×512 face crop in
crops/ and the Process goes CREATED → CROPPED, or FAILED with a reason the client can show.

Retry-safe order: the crop is written first, then the conditional status update. A duplicate
event finds the status no longer CREATED and does nothing; the face swap handler accepts a crop
whose status update has not landed yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from common import aws, observability
from common.observability import logger as log
from facekit import faces, yunet
from style_backend import config, erasure, events, keys
from style_backend.errors import Failure, Reason
from style_backend.process import ProcessStore, Status, process_of_object

if TYPE_CHECKING:
    import numpy as np

yunet.warm_up()  # load the detector during init, not during the first request


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    for obj in events.s3_objects(event):
        crop_upload(obj)


def crop_upload(obj: events.S3Object) -> None:
    store = ProcessStore()
    found = process_of_object(store, obj, keys.parse_upload_key, log)
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
    aws.client("s3").put_object(
        Bucket=obj.bucket, Key=crop_key, Body=faces.encode_crop(crop), ContentType="image/jpeg"
    )
    moved = store.mark_cropped(ref.process_id, crop_key)
    if store.lost_to_erasure(ref.process_id):  # erased while cropping: nothing may stay
        erasure.delete_objects(obj.bucket, [crop_key, obj.key])
        plog.info("discarded: the process was erased meanwhile", extra={"key": crop_key})
        return
    plog.info("cropped" if moved else "cropped (status already moved on)", extra={"key": crop_key})


def crop_face(obj: events.S3Object) -> np.ndarray | None:
    """The aligned crop of the upload's main face; None when the object no longer exists."""
    s3 = aws.client("s3")
    max_bytes = config.max_upload_bytes()
    try:
        # Size first: the presigned POST caps it, but never trust one layer alone.
        size = s3.head_object(Bucket=obj.bucket, Key=obj.key)["ContentLength"]
        if size > max_bytes:
            raise Failure(
                Reason.FILE_TOO_LARGE, f"The file is {size} bytes; the limit is {max_bytes} bytes."
            )
        data = s3.get_object(Bucket=obj.bucket, Key=obj.key)["Body"].read(max_bytes + 1)
    except ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    try:
        return faces.crop_from_upload(data, max_bytes=max_bytes)
    except Failure as failure:
        if failure.__cause__ is not None and failure.code == Reason.UNREADABLE_IMAGE:
            log.error("decoder error", exc_info=failure.__cause__, extra={"key": obj.key})
        raise
