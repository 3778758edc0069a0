"""Ingestion of one uploaded photo: safe decode, EXIF, SHA-256, pHash and a thumbnail.

Decoding is facekit.imaging's (byte limit, magic-byte format, header pixel count, then decode):
a hostile file ends as a Failure with a reason, never as an exception that retries forever.
Pure function of the bytes: the same upload always gives the same result (idempotent step).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image

from facekit import imaging
from facekit.errors import Failure, Reason

MAX_PIXELS = 50_000_000  # a 48 MP phone photo passes; a decompression bomb does not
# Decoded size kept for face detection (faces of a group photo stay large enough to align).
WORKING_MAX_SIDE = 1536
THUMB_MAX_SIDE = 320
THUMB_QUALITY = 85
HASH_SIZE = 8  # pHash of 8×8 DCT coefficients: 64 bits

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _DATETIME = 0x9003, 0x9004, 0x0132
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112


@dataclass(frozen=True)
class Exif:
    taken_at: str | None  # ISO 8601 local time as the camera wrote it (no zone in EXIF 2.2)
    camera: str | None  # "Make Model"
    orientation: int  # 1–8 as stored; the decoded pixels are already upright

    def as_item(self) -> dict:
        return {"takenAt": self.taken_at, "camera": self.camera, "orientation": self.orientation}


@dataclass(frozen=True)
class IngestedPhoto:
    sha256: str
    phash: str  # 16 hex digits (64 bits) of the upright picture
    format: str
    width: int  # upright, full size
    height: int
    exif: Exif
    thumbnail: bytes  # JPEG, at most THUMB_MAX_SIDE on its long side
    rgb: np.ndarray  # upright working copy (≤ WORKING_MAX_SIDE) for face detection
    scale: float  # rgb width / full width

    def as_item(self) -> dict:
        """What the PHOTO# item records (no pixels)."""
        return {
            "sha256": self.sha256,
            "pHash": self.phash,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            **self.exif.as_item(),
        }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest_photo(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int = MAX_PIXELS,
    working_max_side: int = WORKING_MAX_SIDE,
) -> IngestedPhoto:
    """Everything ingestion records of an upload, or Failure (UNREADABLE_IMAGE, …) with a reason."""
    try:
        decoded = imaging.decode_image(
            data, max_pixels=max_pixels, max_bytes=max_bytes, target_max_side=working_max_side
        )
        exif = read_exif(data)
    except Failure:
        raise
    except Exception as err:  # any decoder error on a crafted file: FAILED, never a retry loop
        raise Failure(Reason.UNREADABLE_IMAGE, "The picture could not be read.") from err
    thumb = thumbnail_of(decoded.rgb)
    return IngestedPhoto(
        sha256=sha256_hex(data),
        phash=phash_hex(decoded.rgb),
        format=decoded.format,
        width=decoded.original_size[0],
        height=decoded.original_size[1],
        exif=exif,
        thumbnail=imaging.encode_jpeg(thumb, quality=THUMB_QUALITY),
        rgb=decoded.rgb,
        scale=decoded.scale,
    )


def read_exif(data: bytes) -> Exif:
    """Taken-at, camera and orientation from EXIF; absent or damaged tags are None / 1.
    Call after facekit.imaging accepted the bytes (it checks size, format and pixels)."""
    fmt = imaging.sniff_format(data)
    try:
        with Image.open(io.BytesIO(data), formats=[fmt] if fmt else None) as image:
            tags = image.getexif()
            sub = tags.get_ifd(_EXIF_IFD)
            # pillow-heif applies a HEIF's rotation itself and resets the tag it hands out to 1:
            # the orientation as stored is kept beside it.
            stored = image.info.get("original_orientation")
    except Exception:
        return Exif(taken_at=None, camera=None, orientation=1)
    taken = _exif_datetime(sub.get(_DATETIME_ORIGINAL) or sub.get(_DATETIME_DIGITIZED))
    taken = taken or _exif_datetime(tags.get(_DATETIME))
    make, model = _text(tags.get(_MAKE)), _text(tags.get(_MODEL))
    # Many cameras repeat the make inside the model ("Canon" / "Canon EOS 5D").
    camera = (
        model
        if make and model and model.startswith(make)
        else " ".join(filter(None, [make, model]))
    )
    try:
        orientation = int(stored or tags.get(_ORIENTATION, 1))
    except (TypeError, ValueError):
        orientation = 1
    return Exif(
        taken_at=taken,
        camera=camera or None,
        orientation=orientation if 1 <= orientation <= 8 else 1,
    )


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:100] or None


def _exif_datetime(value) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def phash_hex(rgb: np.ndarray) -> str:
    """imagehash's pHash of the upright picture, as 16 hex digits."""
    import imagehash

    return str(imagehash.phash(Image.fromarray(rgb), hash_size=HASH_SIZE))


def thumbnail_of(rgb: np.ndarray, max_side: int = THUMB_MAX_SIDE) -> np.ndarray:
    image = Image.fromarray(rgb)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.asarray(image)
