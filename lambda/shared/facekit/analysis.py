"""Every face of a photo: detect (YuNet), align to the embedder's template, judge quality, embed.

The two halves are separate calls because FaceFlow's pipeline records them apart (ProcessPhoto
stores the crops, then embeds them; a retry past the first embeds the stored crops):
`find_faces` then `embed_faces`.
Coordinates are those of the original photo: the decoded image may be a downscaled copy, and
`scale` (facekit.imaging.DecodedImage.scale) says by how much.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facekit import quality, yunet
from facekit.embedding import Embedder, align_for, get_embedder

# Heads tilted past what YuNet finds upright (~30°): the photo is also searched turned by these
# angles (benchmarks/bench_detection.py: recall by tilt, and the cost).
TURNS = (45.0, -45.0, 90.0, -90.0)


@dataclass(frozen=True)
class FoundFace:
    face: yunet.DetectedFace  # original-photo pixels
    quality: quality.Quality
    crop: np.ndarray  # aligned RGB uint8, embedder.crop_size², what `embed_faces` takes

    def as_item(self) -> dict:
        return {**self.face.as_item(), "quality": self.quality.as_item()}


def find_faces(
    rgb: np.ndarray, *, scale: float = 1.0, embedder: Embedder | None = None
) -> list[FoundFace]:
    """Faces of a decoded photo, largest first, each aligned for `embedder` (default: the
    configured one) and judged. `scale`: decoded width / original width. Small faces of a large
    photo are searched for tile by tile (yunet.detect_faces(tiled=True))."""
    embedder = embedder or get_embedder()
    out = []
    for detected in yunet.detect_faces(rgb, tiled=True, turns=TURNS):
        crop = align_for(embedder, rgb, detected.landmarks)
        face = detected.scaled(1.0 / scale)
        out.append(FoundFace(face=face, quality=quality.assess(face.eye_distance, crop), crop=crop))
    return out


def embed_faces(faces: list[FoundFace], embedder: Embedder | None = None) -> np.ndarray:
    """(len(faces), embedder.dim) L2-normalised vectors."""
    embedder = embedder or get_embedder()
    return embedder.embed([f.crop for f in faces])
