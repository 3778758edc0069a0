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


def _colour_adjusted(image: Image.Image) -> Image.Image:
    """A light edit: 8% brighter, 10% more contrast, 15% more saturated."""
    from PIL import ImageEnhance

    image = ImageEnhance.Brightness(image).enhance(1.08)
    image = ImageEnhance.Contrast(image).enhance(1.10)
    return ImageEnhance.Color(image).enhance(1.15)


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
    Transform("crop 10% each side", lambda im: _jpeg(_crop(im, 0.10, 0.10, 0.10, 0.10), 90)),
    Transform("colour-adjusted", lambda im: _jpeg(_colour_adjusted(im), 90)),
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
    from faceflow.domain import ingest
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


def ingested(items: Sequence[tuple[str, bytes, str | None]], *, faces: bool = False):
    """(PhotoFacts in upload order, thumbnails by name, the picture each name shows, and with
    `faces` each photo's PhotoFaces as DetectAlign + Embed record them) of a near-duplicate set,
    as ingestion would record them."""
    from faceflow.domain import dedupe, ingest
    from facekit import analysis

    facts, thumbs, truth, found = [], {}, {}, {}
    for order, (name, data, original) in enumerate(items):
        photo = ingest.ingest_photo(data, max_bytes=64 * 1024 * 1024)
        count = 0
        if faces:
            detected = analysis.find_faces(photo.rgb, scale=photo.scale)
            found[name] = dedupe.PhotoFaces(
                np.array([f.face.box for f in detected]).reshape(-1, 4),
                np.array([f.face.landmarks for f in detected]).reshape(-1, 5, 2),
                analysis.embed_faces(detected) if detected else np.zeros((0, 128)),
                np.array([f.quality.low for f in detected], bool),
            )
            count = len(detected)
        facts.append(
            dedupe.PhotoFacts(
                name, photo.sha256, photo.phash, photo.width, photo.height, count, order
            )
        )
        thumbs[name] = np.asarray(Image.open(io.BytesIO(photo.thumbnail)))
        truth[name] = original or name
    return (facts, thumbs, truth, found) if faces else (facts, thumbs, truth)


# ---- hard cases: plain backgrounds, the same place, large uniform areas -------------------

ID_CANVAS = (600, 800)  # an ID photo's page: width, height
ID_PORTRAIT = (240, 320)  # the head and shoulders pasted on it
ID_AT = (180, 200)  # always at the same place
CANVAS_COLOURS = {"white": (255, 255, 255), "grey": (128, 128, 128), "black": (0, 0, 0)}


def _portrait_box(face, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A 3:4 head-and-shoulders box around a face, moved (not cut) to stay inside the photo."""
    x, y, w, h = face.box
    width = min(2.2 * w, size[0], size[1] * 3 / 4)
    height = width * 4 / 3
    left = min(max(0.0, x + w / 2 - width / 2), size[0] - width)
    top = min(max(0.0, y + h * 0.55 - height / 2), size[1] - height)
    return round(left), round(top), round(left + width), round(top + height)


def id_photos() -> list[tuple[str, bytes, str]]:
    """(name, JPEG, identity): every clear face of the registry photos as an ID-style portrait,
    pasted at ID_AT on a plain 600×800 canvas (white, grey or black by identity, so a person's
    other shots share their canvas and each canvas holds many people)."""
    from facekit import yunet

    out = []
    identities: dict[str, int] = {}
    for name, data in distinct_photos():
        upright = _upright(data)
        rgb = np.asarray(upright)
        for index, face in enumerate(yunet.detect_faces(rgb)):
            identity = identity_of(name, index, face.box)
            if identity is None or face.eye_distance < 16:
                continue
            colour = list(CANVAS_COLOURS)[identities.setdefault(identity, len(identities)) % 3]
            portrait = upright.crop(_portrait_box(face, upright.size)).resize(
                ID_PORTRAIT, Image.Resampling.LANCZOS
            )
            canvas = Image.new("RGB", ID_CANVAS, CANVAS_COLOURS[colour])
            canvas.paste(portrait, ID_AT)
            out.append((f"id/{colour}/{name}#{index}", _jpeg(canvas, 92), identity))
    return out


# Registry pictures with no face (scikit-image's data), each pasted small on a large uniform
# area: a scanned page's white border, a clear sky, a letterbox's black bars.
OBJECTS = ("coffee", "rocket", "coins", "hubble_deep_field", "immunohistochemistry", "moon")
OBJECTS += ("page", "horse", "retina", "clock", "logo", "cell")
BACKDROPS = ("page", "sky", "letterbox")


def _backdrop(kind: str) -> tuple[Image.Image, tuple[int, int], int]:
    """(canvas, where the picture goes, its width) for one kind of uniform surround."""
    if kind == "page":
        return Image.new("RGB", (850, 1100), (250, 250, 247)), (170, 160), 340
    if kind == "sky":
        ramp = np.linspace(0, 1, 800)[:, None, None]
        top, bottom = np.array([70, 130, 200]), np.array([170, 205, 235])
        sky = np.broadcast_to(top + (bottom - top) * ramp, (800, 1200, 3)).astype(np.uint8)
        return Image.fromarray(np.ascontiguousarray(sky)), (480, 520), 240
    return Image.new("RGB", (1280, 720), (0, 0, 0)), (400, 60), 480


def uniform_area_photos() -> list[tuple[str, bytes]]:
    """(name, JPEG): OBJECTS on BACKDROPS, each object on one backdrop, each backdrop under
    several objects."""
    from skimage import data

    out = []
    for i, obj in enumerate(OBJECTS):
        picture = getattr(data, obj)()
        if picture.dtype != np.uint8:
            picture = (255 * (picture > 0) if picture.dtype == bool else picture).astype(np.uint8)
        image = Image.fromarray(picture).convert("RGB")
        kind = BACKDROPS[i % len(BACKDROPS)]
        canvas, at, width = _backdrop(kind)
        height = round(width * image.height / image.width)
        canvas.paste(image.resize((width, height), Image.Resampling.LANCZOS), at)
        out.append((f"{kind}/{obj}", _jpeg(canvas, 92)))
    return out


def hard_case_set(copies: bool = True) -> list[tuple[str, bytes, str | None]]:
    """The ID photos and the uniform-area pictures (own pictures, None), with `copies` each
    one's TRANSFORMS copies (the picture they copy)."""
    out: list[tuple[str, bytes, str | None]] = []
    for name, data in [*((n, d) for n, d, _ in id_photos()), *uniform_area_photos()]:
        out.append((name, data, None))
        if copies:
            upright = _upright(data)
            out.extend((f"{name} [{t.name}]", t.make(upright), name) for t in TRANSFORMS)
    return out
