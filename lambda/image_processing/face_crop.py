"""Face crop (S3 ObjectCreated on uploads/): the selfie becomes the aligned 512×512 face crop in
crops/ and the Process goes CREATED → CROPPED, or FAILED with a reason the client can show
(style_backend.edge.face_crop)."""

from __future__ import annotations

from typing import Any

from common import observability
from facekit import yunet
from style_backend.edge import face_crop

yunet.warm_up()  # load the detector during init, not during the first request


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    face_crop.crop_uploads(event)
