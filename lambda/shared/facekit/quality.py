"""Is a detected face good enough to found a person? Faces too small or too blurry are kept (every
face belongs to a cluster) but marked low quality: clustering never seeds a cluster with them.

Both thresholds were measured (benchmarks/bench_faces.py) on the registry portraits by
degrading each face and watching its SFace embedding drift from the sharp original's: below
them, a face's own vector moves farther than the same-person similarities seen.
Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Eye distance in the pixels of the original photo. Measured: a face matches its full-size self at
# cosine 0.85 (median) with 12 px between the eyes, 0.77 at 10, 0.64 at 8 — and different photos
# of one person match at ≥ 0.60, so below 10 px a face's vector is no longer its person's.
MIN_EYE_DISTANCE = 10.0
# Variance of the Laplacian of the aligned 112×112 grey crop (0–255 scale). Sharp registry
# portraits measure 240–3000 and group-shot faces ≥ 65; blurred in proportion to the face, the
# median self-similarity is 0.87 at sharpness 13 (σ 4) and 0.71 at 4.7 (σ 6): cut between.
MIN_SHARPNESS = 10.0

TOO_SMALL = "TOO_SMALL"
TOO_BLURRY = "TOO_BLURRY"


@dataclass(frozen=True)
class Quality:
    eye_distance: float  # original-photo pixels
    sharpness: float  # variance of the Laplacian of the aligned crop
    reasons: tuple[str, ...]  # empty: good

    @property
    def low(self) -> bool:
        return bool(self.reasons)

    def as_item(self) -> dict:
        return {
            "eyeDistance": round(self.eye_distance, 1),
            "sharpness": round(self.sharpness, 1),
            "low": self.low,
            "reasons": list(self.reasons),
        }


def sharpness(crop_rgb: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of the crop's luma: falls as detail is lost."""
    grey = np.asarray(crop_rgb, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var())


def assess(
    eye_distance: float,
    crop_rgb: np.ndarray,
    *,
    min_eye_distance: float = MIN_EYE_DISTANCE,
    min_sharpness: float = MIN_SHARPNESS,
) -> Quality:
    """Quality of a face whose eyes are `eye_distance` original pixels apart, from its crop."""
    sharp = sharpness(crop_rgb)
    reasons = []
    if eye_distance < min_eye_distance:
        reasons.append(TOO_SMALL)
    if sharp < min_sharpness:
        reasons.append(TOO_BLURRY)
    return Quality(eye_distance=float(eye_distance), sharpness=sharp, reasons=tuple(reasons))
