"""Real face photos from registry packages, for the local runtime's styles and for the tests
(nothing committed, nothing downloaded while tests or the local runtime run).

- `astronaut()`: Eileen Collins, NASA portrait (public domain), in scikit-image's wheel.
- `group_photo()` / `group_faces()`: insightface's t1.jpg (six people; rights unclear), fetched
  into .cache/photos by `scripts/fetch_photos.py` at set-up; None / [] when it is absent.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

PHOTO_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "photos"


@cache
def astronaut() -> np.ndarray:
    """512×512 RGB."""
    from skimage import data

    return data.astronaut()


@cache
def group_photo() -> np.ndarray | None:
    """insightface's t1.jpg as RGB, or None when set-up could not fetch it."""
    path = PHOTO_CACHE / "insightface_t1.jpg"
    if not path.exists():
        return None
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@cache
def group_faces(size: int = 256) -> list[np.ndarray]:
    """Each detected person of the group photo as an upscaled head-and-shoulders RGB image,
    largest face first: distinct real identities for identity measurements."""
    from PIL import Image

    from facekit import faces

    photo = group_photo()
    if photo is None:
        return []
    out = []
    for face in faces.detect_faces(photo, upsample=1):
        left, top, right, bottom = face.box
        pad = (right - left) // 2 + 4
        box = (max(left - pad, 0), max(top - pad, 0), right + pad, bottom + pad)
        head = Image.fromarray(photo).crop(box).resize((size, size), Image.Resampling.LANCZOS)
        out.append(np.asarray(head))
    return out
