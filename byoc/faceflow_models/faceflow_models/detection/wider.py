"""WIDER FACE annotations: the format face-detection training sets come in.

A channel holds `*_bbx_gt.txt` (e.g. `wider_face_train_bbx_gt.txt`) and the images under
`images/`. The annotation file repeats, per image:

    0--Parade/0_Parade_marchingband_1_849.jpg   image path, relative to images/
    1                                           number of faces
    449 330 122 149 0 0 0 0 0 0                 x y w h, then blur expression illumination
                                                invalid occlusion pose

An image with no face says 0 and is followed by one line of zeros, which is skipped. Faces marked
invalid, or smaller than `min_size` pixels, are dropped (WIDER's evaluation ignores them too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceflow_models.errors import DataError

ANNOTATION_GLOB = "*_bbx_gt.txt"
IMAGES_DIR = "images"


@dataclass(frozen=True)
class AnnotatedImage:
    path: Path
    boxes: np.ndarray  # (F, 4) float32 x1 y1 x2 y2, pixels


def annotation_file(channel: Path) -> Path:
    found = sorted(channel.glob(ANNOTATION_GLOB))
    if len(found) != 1:
        names = [p.name for p in found] or "none"
        raise DataError(f"{channel}: expected one {ANNOTATION_GLOB} annotation file, found {names}")
    return found[0]


def read_wider(channel: Path, min_size: float = 4.0) -> list[AnnotatedImage]:
    path = annotation_file(channel)
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    images, i = [], 0
    while i < len(lines):
        name = lines[i]
        try:
            count = int(lines[i + 1])
        except (IndexError, ValueError):
            raise DataError(
                f"{path.name}: line {i + 2}: face count expected after {name}"
            ) from None
        rows = lines[i + 2 : i + 2 + max(count, 1)]
        if len(rows) < max(count, 1):
            raise DataError(f"{path.name}: {name}: {count} faces announced, {len(rows)} given")
        boxes = []
        for row in rows[:count]:
            values = row.split()
            try:
                x, y, w, h = (float(v) for v in values[:4])
            except ValueError:
                raise DataError(f"{path.name}: {name}: not a box: {row!r}") from None
            invalid = len(values) > 7 and values[7] == "1"
            if not invalid and min(w, h) >= min_size:
                boxes.append((x, y, x + w, y + h))
        image = channel / IMAGES_DIR / name
        if not image.is_file():
            raise DataError(f"{path.name}: {name}: no such image under {IMAGES_DIR}/")
        images.append(AnnotatedImage(image, np.array(boxes, dtype=np.float32).reshape(-1, 4)))
        i += 2 + max(count, 1)
    if not images:
        raise DataError(f"{path.name}: no images")
    return images


def write_wider(channel: Path, entries: list[tuple[str, np.ndarray]], split: str = "train") -> Path:
    """The inverse, for tools that prepare a channel: entries are (relative image path, boxes)."""
    out: list[str] = []
    for name, boxes in entries:
        out.append(name)
        out.append(str(len(boxes)))
        for x1, y1, x2, y2 in boxes:
            out.append(f"{x1:.0f} {y1:.0f} {x2 - x1:.0f} {y2 - y1:.0f} 0 0 0 0 0 0")
        if len(boxes) == 0:
            out.append("0 0 0 0 0 0 0 0 0 0")
    path = channel / f"wider_face_{split}_bbx_gt.txt"
    path.write_text("\n".join(out) + "\n")
    return path
