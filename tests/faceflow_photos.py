"""FaceFlow's real test photos (registry packages fetched at set-up, see local/photos.py) and the
near-duplicate set made from them: each distinct photo's re-encoded, resized, lightly cropped and
EXIF-rotated copies, plus the real re-encoded copy (face_recognition's 32bit.png of obama2.jpg).

Used by the FaceFlow tests and by benchmarks/bench_dedupe.py / bench_clustering.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from local import photos

# Every face of the group shots is a different person (checked by eye: face-api's six demo
# pictures and insightface's t1 share nobody, and none shares anyone with the portraits).
GROUP_SHOTS = tuple(f"face_api/sample{i}.jpg" for i in range(1, 7))
# Heavy crops (≈ 55% of the width) of face_recognition/obama.jpg: new pictures, not copies.
HEAVY_CROPS = (
    "face_recognition/obama_partial_face.jpg",
    "face_recognition/obama_partial_face2.jpg",
)
REAL_COPY = ("face_recognition/32bit.png", "face_recognition/obama2.jpg")  # (copy, original)
# YuNet's one false positive on these photos (a dark patch, face-api sample1, bottom left): not a
# face, so it is left out of identity labels (it ends as its own low-quality singleton).
NOT_FACES = {("face_api/sample1.jpg", (146, 634))}


def distinct_photos(only: Sequence[str] | None = None) -> list[tuple[str, bytes]]:
    """(name, bytes) of every fetched photo that is its own picture (no copy of another), or of
    those named in `only`."""
    names = [*photos.LABELLED, *GROUP_SHOTS, "insightface_t1.jpg"]
    if only is not None:
        names = [n for n in names if n in only]
    out = [
        (n, (photos.PHOTO_CACHE / n).read_bytes())
        for n in names
        if (photos.PHOTO_CACHE / n).exists()
    ]
    if only is None or "skimage/astronaut.png" in only:
        out.append(("skimage/astronaut.png", _png(photos.astronaut())))
    return out


def heavy_crops() -> list[tuple[str, bytes]]:
    return [
        (n, (photos.PHOTO_CACHE / n).read_bytes())
        for n in HEAVY_CROPS
        if (photos.PHOTO_CACHE / n).exists()
    ]


def real_copy() -> tuple[tuple[str, bytes], tuple[str, bytes]] | None:
    paths = [photos.PHOTO_CACHE / n for n in REAL_COPY]
    if not all(p.exists() for p in paths):
        return None
    return (REAL_COPY[0], paths[0].read_bytes()), (REAL_COPY[1], paths[1].read_bytes())


def _upright(data: bytes) -> Image.Image:
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _jpeg(image: Image.Image | np.ndarray, quality: int = 90, exif: bytes | None = None) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


def _png(image: Image.Image | np.ndarray) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = image.size
    return image.crop(
        (round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom)))
    )


def _exif_rotated(image: Image.Image) -> bytes:
    """Pixels stored turned a quarter left, with EXIF orientation 6 (turn right to view): the
    same picture on screen, as phones write it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(image.transpose(Image.Transpose.ROTATE_90), 92, exif.tobytes())


def _resized(image: Image.Image, factor: float) -> Image.Image:
    w, h = image.size
    return image.resize(
        (max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.LANCZOS
    )


@dataclass(frozen=True)
class Transform:
    name: str
    make: Callable[[Image.Image], bytes]


TRANSFORMS = (
    Transform("re-encode q60", lambda im: _jpeg(im, 60)),
    Transform("PNG", _png),
    Transform("resize 50%", lambda im: _jpeg(_resized(im, 0.5), 90)),
    Transform("crop 5% each side", lambda im: _jpeg(_crop(im, 0.05, 0.05, 0.05, 0.05), 90)),
    Transform("crop 10% left+top", lambda im: _jpeg(_crop(im, 0.10, 0.10, 0, 0), 90)),
    Transform("EXIF-rotated", _exif_rotated),
    Transform(
        "crop 4% + resize 60% + q70",
        lambda im: _jpeg(_resized(_crop(im, 0.04, 0.02, 0.0, 0.04), 0.6), 70),
    ),
)


def near_duplicate_set(only: Sequence[str] | None = None) -> list[tuple[str, bytes, str | None]]:
    """(name, bytes, name of the photo it copies or None) for every distinct photo (or those in
    `only`), each of its transformed copies, the real re-encoded copy and the heavy crops
    (None: their own picture)."""
    out: list[tuple[str, bytes, str | None]] = []
    for name, data in distinct_photos(only):
        out.append((name, data, None))
        upright = _upright(data)
        for transform in TRANSFORMS:
            out.append((f"{name} [{transform.name}]", transform.make(upright), name))
    pair = real_copy()
    if pair:
        (copy_name, copy_data), (original, _) = pair
        out.append((copy_name, copy_data, original))
    out.extend((name, data, None) for name, data in heavy_crops())
    return out


@dataclass(frozen=True)
class LabelledFace:
    photo: str
    index: int  # in the photo, largest first
    identity: str | None  # None: not a face (NOT_FACES)
    vector: np.ndarray
    low_quality: bool


def identity_of(photo: str, index: int, box: tuple[float, ...]) -> str | None:
    """Who a detected face is: the portrait's person, or a person of its own in a group shot."""
    if any(photo == p and abs(box[0] - x) < 8 and abs(box[1] - y) < 8 for p, (x, y) in NOT_FACES):
        return None
    if photo in photos.LABELLED:
        return photos.LABELLED[photo]
    if photo in HEAVY_CROPS:
        return "obama"
    if photo == "skimage/astronaut.png":
        return "collins"
    return f"{photo}#{index}"


def labelled_faces() -> list[LabelledFace]:
    """Every face YuNet finds in the distinct photos and the heavy crops, embedded by the default
    embedder, with its identity. Portraits hold one face each; extra detections there are None."""
    from faceflow import ingest
    from facekit import analysis

    out = []
    for name, data in [*distinct_photos(), *heavy_crops()]:
        photo = ingest.ingest_photo(data, max_bytes=64 * 1024 * 1024)
        found = analysis.find_faces(photo.rgb, scale=photo.scale)
        vectors = analysis.embed_faces(found)
        for i, (face, vector) in enumerate(zip(found, vectors, strict=True)):
            out.append(
                LabelledFace(
                    photo=name,
                    index=i,
                    identity=identity_of(name, i, face.face.box),
                    vector=vector,
                    low_quality=face.quality.low,
                )
            )
    return out
