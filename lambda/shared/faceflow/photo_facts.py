"""What ExtractEXIF records about one photo: SHA-256, size, EXIF (taken-at, camera,
orientation), a perceptual hash and a thumbnail, after the styling flow's safe decode.

A minimal interface for the pipeline step; FaceFlow's ingestion module (helper branch
`faceflow`) replaces the body of `examine` without changing its shape.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import imagehash
import numpy as np
from PIL import Image

from facekit.imaging import decode_image, encode_jpeg

THUMBNAIL_SIDE = 256
# Working copy for hashing and the thumbnail: plenty for both, and libjpeg decodes a 12-MP JPEG
# at 1/4 or 1/8 scale directly (draft mode), which is what keeps a photo cheap.
WORKING_SIDE = 1024
MAX_PIXELS = 60_000_000
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112


@dataclass(frozen=True)
class PhotoFacts:
    sha256: str
    phash: str  # 64-bit pHash, hex
    width: int  # upright (EXIF orientation applied)
    height: int
    taken_at: str | None  # ISO 8601, camera local time (EXIF has no zone)
    camera: str | None
    orientation: int
    thumbnail_jpeg: bytes


def _exif(data: bytes) -> tuple[str | None, str | None, int]:
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
    except Exception:  # decode_image already vouched for the pixels; EXIF is optional
        return None, None, 1
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    taken_at = None
    if isinstance(raw, str):
        try:
            taken_at = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
        except ValueError:
            taken_at = None
    camera = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (_MAKE, _MODEL)).strip()
    orientation = exif.get(_ORIENTATION, 1)
    return taken_at, camera or None, orientation if isinstance(orientation, int) else 1


def examine(data: bytes, *, max_bytes: int) -> PhotoFacts:
    """Facts of one upload; raises facekit.errors.Failure (with a reason) for hostile files."""
    decoded = decode_image(
        data, max_pixels=MAX_PIXELS, max_bytes=max_bytes, target_max_side=WORKING_SIDE
    )
    image = Image.fromarray(decoded.rgb)
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BILINEAR)
    taken_at, camera, orientation = _exif(data)
    width, height = decoded.original_size
    return PhotoFacts(
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(image)),
        width=width,
        height=height,
        taken_at=taken_at,
        camera=camera,
        orientation=orientation,
        thumbnail_jpeg=encode_jpeg(np.asarray(thumb), quality=85),
    )
