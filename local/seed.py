"""Style images for the local backend: fashion-like portraits of real people, made at start from
photos that registry packages ship (scripts/fetch_photos.py puts them in .cache/photos at set-up;
never committed, never downloaded at run time), and seeded through
`style_backend.edge.seeding`, which checks every one (one clear main face, large enough, head
pose within the engines' limits).

Each style frames one person as a 3:4 head-and-shoulders portrait (`frame_person`) and grades it
in its theme. The people are none of the tests' or benchmarks' uploaders (the astronaut and the
labelled portraits of local.photos: Macron, Ardern, Obama, Sunak, Biden), so "the result keeps the
uploader's identity" is a real check on every style: they come from the group photos, insightface's
t1.jpg (rights unclear, see local/photos.py) and face-api's demo shots (MIT package). One man and
six women, light (3), medium (3) and dark (1) skin: the only frontal-enough man outside the
uploaders is t1's, and the darkest skin among the group photos' usable faces is sample5's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
# The framed portrait: 3:4, eyes 40 % down, eye distance 17 % of the width (head and shoulders).
FRAME_SIZE = (768, 1024)
FRAME_EYE_LINE = 0.40
FRAME_EYE_SPAN = 0.17


def frame_person(rgb: np.ndarray, face) -> tuple[np.ndarray, Any]:
    """A 3:4 portrait of `face` (a facekit.yunet.DetectedFace of `rgb`), kept inside the photo
    (smaller framing rather than invented borders), and the face in its coordinates."""
    from PIL import Image

    height, width = rgb.shape[:2]
    box_w = min(face.eye_distance / FRAME_EYE_SPAN, width, height * 3 / 4)
    box_h = box_w * 4 / 3
    eyes = face.landmarks[:2].mean(axis=0)
    left = float(np.clip(eyes[0] - box_w / 2, 0, width - box_w))
    top = float(np.clip(eyes[1] - FRAME_EYE_LINE * box_h, 0, height - box_h))
    box = (left, top, left + box_w, top + box_h)
    framed = Image.fromarray(rgb).resize(FRAME_SIZE, Image.Resampling.LANCZOS, box=box)
    scale = FRAME_SIZE[0] / box_w
    moved = type(face)(
        box=(
            (face.box[0] - left) * scale,
            (face.box[1] - top) * scale,
            face.box[2] * scale,
            face.box[3] * scale,
        ),
        landmarks=(face.landmarks - [left, top]) * scale,
        score=face.score,
    )
    return np.asarray(framed), moved


# ---------------------------------------------------------------- grades (float RGB 0–255)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _vignette(rgb: np.ndarray, strength: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    y, x = np.ogrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    return rgb * (1 - strength * np.clip(x * x + y * y - 0.3, 0, None))[..., None]


def _noir(rgb):
    grey = np.clip((_luma(rgb) - 128) * 1.35 + 128, 0, 255)
    return _vignette(np.repeat(grey[..., None], 3, axis=2), 0.55)


def _golden_hour(rgb):
    warm = rgb * np.array([1.10, 1.00, 0.80]) + np.array([18, 8, 0])
    return _vignette(warm, 0.25)


def _teal_orange(rgb):
    shadows = (255 - _luma(rgb))[..., None] / 255
    return rgb * np.array([1.08, 1.0, 0.9]) + shadows * np.array([-14, 10, 28])


def _pastel(rgb):
    grey = _luma(rgb)[..., None]
    soft = grey + (rgb - grey) * 0.7
    return soft * 0.78 + np.array([62, 48, 58])


def _neon_night(rgb):
    grey = _luma(rgb)[..., None] / 255
    split = (1 - grey) * np.array([40, -10, 55]) + grey * np.array([-20, 25, 30])
    return _vignette(rgb * 1.05 + split, 0.45)


def _vintage(rgb):
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    faded = (rgb @ m.T) * 0.9 + 40
    grain = np.random.default_rng(7).normal(0, 6, rgb.shape[:2])[..., None]
    return _vignette(faded + grain, 0.35)


def _gallery(rgb):
    """Cool studio grade inside a white passe-partout."""
    graded = rgb * np.array([0.95, 1.0, 1.06])
    out = np.full_like(graded, 246.0)
    out[40:-40, 40:-40] = graded[40:-40, 40:-40]
    return out


@dataclass(frozen=True)
class Style:
    resource_id: str
    theme: str
    gender: str
    skin_tone: str
    photo: str  # under .cache/photos
    face: int  # which YuNet face of the photo (largest first)
    grade: Callable[[np.ndarray], np.ndarray]


STYLES = (
    Style("noir-editorial", "noir", "male", "light", "insightface_t1.jpg", 0, _noir),
    Style("golden-hour", "golden", "female", "dark", "face_api/sample5.jpg", 0, _golden_hour),
    Style("teal-city", "cinematic", "female", "light", "face_api/sample3.jpg", 0, _teal_orange),
    Style("pastel-spring", "pastel", "female", "medium", "face_api/sample5.jpg", 4, _pastel),
    Style("neon-night", "neon", "female", "medium", "face_api/sample6.jpg", 2, _neon_night),
    Style("vintage-film", "vintage", "female", "light", "insightface_t1.jpg", 4, _vintage),
    Style("gallery-white", "studio", "female", "medium", "face_api/sample6.jpg", 1, _gallery),
)


def style_image(style: Style) -> np.ndarray | None:
    """The style's portrait (RGB uint8), or None when set-up did not fetch its photo."""
    from facekit import imaging, yunet
    from local.photos import PHOTO_CACHE

    path = PHOTO_CACHE / style.photo
    if not path.exists():
        return None
    rgb = imaging.decode_image(path.read_bytes(), max_pixels=50_000_000, max_bytes=1 << 26).rgb
    framed, _ = frame_person(rgb, yunet.detect_faces(rgb)[style.face])
    return np.clip(style.grade(framed.astype(np.float32)), 0, 255).astype(np.uint8)


class SeedFailed(RuntimeError):
    pass


def write_style_folder(folder: Path) -> Path:
    """Images + the `styles.json` manifest `style_backend.edge.seeding` reads; a style whose photo
    set-up could not fetch is left out (SeedFailed when none is left)."""
    from PIL import Image

    entries = []
    for style in STYLES:
        image = style_image(style)
        if image is None:
            continue
        name = f"{style.resource_id}.png"
        Image.fromarray(image).save(folder / name)
        entries.append(
            {
                "resourceId": style.resource_id,
                "file": name,
                "theme": style.theme,
                "gender": style.gender,
                "skinTone": style.skin_tone,
            }
        )
    if not entries:
        raise SeedFailed("no style photo in .cache/photos: run scripts/fetch_photos.py")
    (folder / "styles.json").write_text(json.dumps({"styles": entries}, indent=1))
    return folder


def seed_styles(bucket: str, table: str, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Seed through `python -m style_backend.edge.seeding` in a process of its own: the domain
    code reads its endpoint and credentials from the environment, as on Lambda, and `env` (the
    local AWS endpoint, fake credentials) is that process's environment, never this one's."""
    with tempfile.TemporaryDirectory(prefix="style-seed-") as tmp:
        folder = write_style_folder(Path(tmp))
        command = [sys.executable, "-m", "style_backend.edge.seeding", str(folder)]
        done = subprocess.run(
            [*command, "--bucket", bucket, "--table", table],
            env={**env, "PYTHONPATH": str(REPO / "lambda/shared")},
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise SeedFailed(lines[-1])
    seeded = []
    for line in done.stdout.splitlines():
        resource_id, image_key, style_key = line.split("\t")
        seeded.append({"resourceId": resource_id, "imageKey": image_key, "styleKey": style_key})
    return seeded
