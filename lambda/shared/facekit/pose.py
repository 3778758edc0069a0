"""Head pose (yaw, pitch, roll in degrees) from YuNet's 5 landmarks: a generic 3D face fitted by
a scaled orthographic camera, the usual estimate when only eyes, nose tip and mouth corners are
known. Frontal is (0, 0, 0); yaw > 0 turns the face towards the image's right, pitch > 0 tilts
the chin up. Numpy only.

It is an estimate of a generic face, so its degrees are this estimator's: the limits that use
it (style_backend.edge.seeding) are measured with it (benchmarks/bench_style_pose.py), on real
photos.
One detection's landmarks jitter by a few pixels, which swings pitch: single detections of one
face (the astronaut's head cut six ways, 36 detections) spread over 22°; `steady_head_pose`
takes the median landmarks of detections at several sizes first, which keeps the six cuts within
5° of each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facekit import yunet

# A mean face in YuNet's landmark order (eye centres, nose tip, mouth corners): x to the image's
# right, y down, z towards the camera, in units of 1/320 of the distance between the eyes. The
# proportions are those of the 3D head model commonly given to solvePnP for head pose.
FACE_3D = np.array(
    [
        [-160.0, -170.0, 0.0],
        [160.0, -170.0, 0.0],
        [0.0, 0.0, 135.0],
        [-150.0, 150.0, 10.0],
        [150.0, 150.0, 10.0],
    ]
)


# Sizes (fractions of the longest side, capped at the detector's) the steady estimate detects at.
STEADY_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


@dataclass(frozen=True)
class Pose:
    yaw: float
    pitch: float
    roll: float

    def as_item(self) -> dict:
        return {k: round(v, 1) for k, v in vars(self).items()}


def head_pose(landmarks: np.ndarray) -> Pose:
    """The pose of a face from its (5, 2) YuNet landmarks (image pixels)."""
    points = np.asarray(landmarks, np.float64)[:5]
    model = FACE_3D - FACE_3D.mean(axis=0)
    image = points - points.mean(axis=0)
    # Affine camera: image ≈ model · Mᵀ, least squares (5 points, 6 unknowns per axis pair).
    camera, *_ = np.linalg.lstsq(model, image, rcond=None)
    first, second = camera.T
    first = first / np.linalg.norm(first)
    second = second - (second @ first) * first  # the nearest rotation's rows: orthonormal
    second = second / np.linalg.norm(second)
    rotation = np.stack([first, second, np.cross(first, second)])
    yaw = np.degrees(np.arctan2(rotation[0, 2], rotation[2, 2]))
    pitch = np.degrees(np.arctan2(-rotation[1, 2], rotation[2, 2]))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return Pose(yaw=float(yaw), pitch=float(pitch), roll=float(roll))


def steady_head_pose(rgb: np.ndarray, face: yunet.DetectedFace, max_side: int = 2048) -> Pose:
    """The pose of `face` (found in `rgb`) from the median of its landmarks over detections at
    STEADY_SCALES of the image (each matched to it by the nearest eyes)."""
    longest = min(max(rgb.shape[:2]), max_side)
    eyes = face.landmarks[:2].mean(axis=0)
    seen = [face.landmarks]
    for scale in STEADY_SCALES[1:]:
        found = yunet.detect_faces(rgb, max_side=round(longest * scale))
        if found:
            near = min(found, key=lambda f: np.linalg.norm(f.landmarks[:2].mean(axis=0) - eyes))
            if np.linalg.norm(near.landmarks[:2].mean(axis=0) - eyes) < face.eye_distance / 2:
                seen.append(near.landmarks)
    return head_pose(np.median(np.stack(seen), axis=0))
