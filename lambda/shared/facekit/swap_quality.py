"""How good a face swap is, measured as face-swapping papers do (FaceShifter, SimSwap): identity
kept, pose and expression kept, and no visible seam.

- identity: SFace cosine of the result's face with the uploader's and with the style's person
  (same person ~0.5–0.9, different people mostly < 0.3): the result should be nearer the uploader.
- pose: the result's landmarks against the style's, as a distance normalised by the style's eye
  distance (NME), on YuNet's 5 points and on Face Mesh's 468 (expression too: mouth, eyes,
  brows), and the yaw / pitch / roll of the head of the result relative to the style's.
- seam: how much sharper the result is than the style along the edge of what changed, where a
  pasted face would show its cut: mean gradient magnitude of the result over that edge divided by
  the style's over the same pixels (1 = no edge added).

The benchmark (benchmarks/bench_swap_quality.py), the engine's tests and the browser test use
these same readings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facekit import mesh, yunet
from facekit.embedding import align_for, get_embedder

# Where the result differs from the style by more than this (grey levels, after a light blur),
# the swap changed it; the seam is read on the edge of that region.
CHANGED_LEVEL = 8.0
EDGE_WIDTH = 2


@dataclass(frozen=True)
class FaceReading:
    detected: yunet.DetectedFace
    mesh: mesh.FaceMesh | None
    embedding: np.ndarray

    @property
    def centre(self) -> np.ndarray:
        x, y, w, h = self.detected.box
        return np.array([x + w / 2, y + h / 2])


def read_face(rgb: np.ndarray, near: np.ndarray | None = None) -> FaceReading | None:
    """The face of the image (the one nearest `near` when given, else the largest) with its
    mesh and identity embedding; None when there is no face."""
    found = yunet.detect_faces(rgb)
    if not found:
        return None
    if near is None:
        face = found[0]
    else:

        def distance(f: yunet.DetectedFace) -> float:
            x, y, w, h = f.box
            return float(np.linalg.norm(np.array([x + w / 2, y + h / 2]) - near))

        face = min(found, key=distance)
    embedder = get_embedder()
    embedding = embedder.embed([align_for(embedder, rgb, face.landmarks)])[0]
    try:
        face_mesh = mesh.face_mesh(rgb, face.landmarks, face.box)
    except mesh.NoMesh:
        face_mesh = None
    return FaceReading(face, face_mesh, embedding)


def cosine(a: FaceReading, b: FaceReading) -> float:
    return float(np.dot(a.embedding, b.embedding))


@dataclass(frozen=True)
class PoseError:
    nme5: float  # YuNet's 5 points, / style's eye distance
    nme_mesh: float  # Face Mesh's 468 points, / style's eye distance (nan without meshes)
    yaw: float  # degrees, absolute difference
    pitch: float
    roll: float


def pose_error(result: FaceReading, style: FaceReading) -> PoseError:
    eye = style.detected.eye_distance
    nme5 = float(
        np.linalg.norm(result.detected.landmarks - style.detected.landmarks, axis=1).mean() / eye
    )
    if result.mesh is None or style.mesh is None:
        return PoseError(nme5, float("nan"), float("nan"), float("nan"), float("nan"))
    dense = np.linalg.norm(result.mesh.xy - style.mesh.xy, axis=1).mean() / style.mesh.eye_distance
    yaw, pitch, roll = mesh.yaw_pitch_roll(mesh.head_rotation(style.mesh, result.mesh))
    return PoseError(nme5, float(dense), abs(yaw), abs(pitch), abs(roll))


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _gradient(grey: np.ndarray) -> np.ndarray:
    import cv2

    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def changed_region(result: np.ndarray, style: np.ndarray) -> np.ndarray:
    """bool mask of what the swap changed (the largest connected part, holes filled)."""
    import cv2

    difference = cv2.GaussianBlur(np.abs(_grey(result) - _grey(style)), (5, 5), 0)
    changed = (difference > CHANGED_LEVEL).astype(np.uint8)
    changed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed)
    if count < 2:
        return np.zeros(changed.shape, bool)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    part = (labels == largest).astype(np.uint8)
    contours, _ = cv2.findContours(part, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(part)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled > 0


def seam_score(result: np.ndarray, style: np.ndarray) -> float:
    """Mean gradient magnitude of the result on the edge of the changed region over the style's
    on the same pixels: ~1 when the swap fades in, above 1.5 for a cut-out pasted on."""
    import cv2

    changed = changed_region(result, style).astype(np.uint8)
    if not changed.any():
        return 1.0
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE_WIDTH + 1,) * 2)
    edge = (cv2.dilate(changed, kernel) - cv2.erode(changed, kernel)) > 0
    ours, theirs = _gradient(_grey(result))[edge], _gradient(_grey(style))[edge]
    return float(ours.mean() / max(theirs.mean(), 1.0))
