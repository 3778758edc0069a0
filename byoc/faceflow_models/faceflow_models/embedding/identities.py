"""ImageFolder-style identity trees: one folder per person, their face crops inside.

    train/
      alice/  0001.jpg 0002.png …
      bob/    …

Crops should be aligned faces (eyes level, face filling the frame, as FaceFlow's aligner cuts
them); any size, resized to the training image_size. Folder names are the labels; folders with
no image are skipped; a tree with fewer than two identities cannot train ArcFace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faceflow_models.errors import DataError
from faceflow_models.imaging import IMAGE_SUFFIXES


@dataclass(frozen=True)
class IdentityTree:
    names: list[str]  # label i is names[i]
    samples: list[tuple[Path, int]]


def read_identities(root: Path) -> IdentityTree:
    names, samples = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images:
            continue
        label = len(names)
        names.append(folder.name)
        samples.extend((image, label) for image in images)
    if len(names) < 2:
        raise DataError(
            f"{root}: {len(names)} identity folder(s) with images; ArcFace needs two or more"
        )
    return IdentityTree(names, samples)
