"""Style images for the local backend, made from photos that ship in registry packages, and
seeded through `style_backend.seeding`. Nothing is downloaded at run time.

- scikit-image's astronaut (Eileen Collins, NASA, public domain): `sepia-portrait`, `noir-mirror`.
- `teal-studio`: the largest person of insightface's group photo when set-up fetched it
  (scripts/fetch_photos.py → .cache/photos; never committed), else the astronaut again. A style
  whose face is someone else makes "the result keeps the uploader's identity" a real check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def _sepia(rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return np.clip(rgb.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


def _noir(rgb: np.ndarray) -> np.ndarray:
    """Mirrored, high-contrast black and white."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    grey = np.clip((grey - 128) * 1.4 + 128, 0, 255)
    return np.repeat(grey[..., None], 3, axis=2)[:, ::-1].astype(np.uint8)


def _teal_studio(rgb: np.ndarray) -> np.ndarray:
    """Teal-and-orange grade on a wider canvas with a brick backdrop (scikit-image's brick)."""
    from PIL import Image
    from skimage import data

    graded = rgb.astype(np.float32)
    graded[..., 0] *= 1.12
    graded[..., 2] = graded[..., 2] * 0.85 + 30
    wall = np.asarray(Image.fromarray(data.brick()).resize((640, 640)), dtype=np.float32)
    canvas = np.stack([wall * 0.55, wall * 0.75, wall * 0.8], axis=-1)
    canvas[64:576, 64:576] = graded
    return np.clip(canvas, 0, 255).astype(np.uint8)


STYLES: list[tuple[dict[str, str], Callable[[np.ndarray], np.ndarray]]] = [
    ({"resourceId": "sepia-portrait", "theme": "vintage"}, _sepia),
    ({"resourceId": "noir-mirror", "theme": "noir"}, _noir),
    ({"resourceId": "teal-studio", "theme": "studio"}, _teal_studio),
]


def _other_person() -> np.ndarray | None:
    """A 512×512 head-and-shoulders of someone who is not the astronaut, if set-up fetched one."""
    from PIL import Image

    # The photo helpers of the test suite own how the group photo is cut into people.
    from local.photos import group_faces

    people = group_faces(size=512)
    return np.asarray(Image.fromarray(people[0]).convert("RGB")) if people else None


def write_style_folder(folder: Path) -> Path:
    """Images + the `styles.json` manifest `style_backend.seeding` reads."""
    from PIL import Image
    from skimage import data

    photo = data.astronaut()
    entries = []
    for fields, treat in STYLES:
        name = f"{fields['resourceId']}.png"
        base = _other_person() if fields["resourceId"] == "teal-studio" else None
        Image.fromarray(treat(photo if base is None else base)).save(folder / name)
        entries.append({**fields, "file": name, "gender": "female", "skinTone": "light"})
    (folder / "styles.json").write_text(json.dumps({"styles": entries}, indent=1))
    return folder


class SeedFailed(RuntimeError):
    pass


def seed_styles(bucket: str, table: str, env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Seed through `python -m style_backend.seeding` in a process of its own: the domain code reads
    its endpoint and credentials from the environment, as on Lambda, and `env` (the local AWS
    endpoint, fake credentials) is that process's environment, never this one's."""
    with tempfile.TemporaryDirectory(prefix="style-seed-") as tmp:
        folder = write_style_folder(Path(tmp))
        command = [sys.executable, "-m", "style_backend.seeding", str(folder)]
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
