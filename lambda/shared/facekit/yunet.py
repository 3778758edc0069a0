"""YuNet face detection (OpenCV Zoo, Apache-2.0): every face of a photo with its box, 5 landmarks
and a confidence, frontal or not (turned heads, tilted faces, small faces in group photos).

Runs with OpenCV's `cv2.FaceDetectorYN` on the int8 model file from FACE_MODELS_DIR (see
facekit.models). Detection runs on a copy at most DETECT_MAX_SIDE pixels long; boxes and
landmarks come back in the coordinates of the image given.

`find_main_face` keeps the contract of `facekit.faces.find_main_face` (the styling flow's dlib
detector): same Failures, and the returned face has the `left_eye`/`right_eye`/`nose`/`width`/
`eye_distance`/`scaled` that `facekit.faces.align_face` uses, so the styling crop switches to YuNet
by changing which `find_main_face` `facekit.faces.crop_main_face` calls.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

from facekit.errors import Failure, Reason
from facekit.models import model_path

YUNET_MODEL = "face_detection_yunet_2023mar_int8bq.onnx"
# OpenCV Zoo's demo keeps 0.9, which loses real faces: on the registry photos, true faces score
# 0.75–0.96 (a head bowed in a group shot: 0.75), and nothing else scores above 0.3 except one dark
# patch in face-api's sample1 (0.75), which quality.py then marks TOO_BLURRY (sharpness 2).
SCORE_THRESHOLD = 0.7
NMS_THRESHOLD = 0.3
TOP_K = 5000
# Detection cost grows with pixels (1920×1400 costs ~5× a 960-long copy) while YuNet still finds
# faces of ~20 px at that size: a face that small is marked low quality anyway.
DETECT_MAX_SIDE = 960


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates."""

    box: tuple[float, float, float, float]  # x, y, width, height
    # (5, 2): the eye on the left of an upright face's image, the other eye, the nose tip, the
    # mouth corner on the left, the other corner — YuNet's order, which SFace's template follows.
    landmarks: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return self.box[2]

    @property
    def height(self) -> float:
        return self.box[3]

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    @property
    def left_eye(self) -> np.ndarray:
        return self.landmarks[0]

    @property
    def right_eye(self) -> np.ndarray:
        return self.landmarks[1]

    @property
    def nose(self) -> np.ndarray:
        return self.landmarks[2]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def scaled(self, factor: float) -> DetectedFace:
        """The same face in an image `factor` times larger."""
        return DetectedFace(
            box=tuple(float(v * factor) for v in self.box),
            landmarks=self.landmarks * factor,
            score=self.score,
        )

    def as_item(self) -> dict:
        """JSON-ready: box [x, y, w, h] and landmarks rounded to 0.1 px, score to 0.001."""
        return {
            "box": [round(float(v), 1) for v in self.box],
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
            "score": round(self.score, 3),
        }


_lock = threading.Lock()  # one detector object, whose input size is per call


@cache
def _detector():
    import cv2

    path = str(model_path(YUNET_MODEL))
    return cv2.FaceDetectorYN.create(path, "", (320, 320), SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K)


def warm_up() -> None:
    """Load the model (cold start) so the first photo does not pay for it."""
    _detector()


def detect_faces(
    rgb: np.ndarray,
    *,
    max_side: int = DETECT_MAX_SIDE,
    score_threshold: float = SCORE_THRESHOLD,
) -> list[DetectedFace]:
    """Every face of an RGB uint8 image scoring at least `score_threshold`, largest first."""
    import cv2

    height, width = rgb.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    detector = _detector()
    with _lock:
        detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        detector.setScoreThreshold(score_threshold)
        _, rows = detector.detect(bgr)
    if rows is None:
        return []
    scale_x, scale_y = width / bgr.shape[1], height / bgr.shape[0]
    scale = np.array([scale_x, scale_y])
    found = [
        DetectedFace(
            box=(
                float(row[0] * scale_x),
                float(row[1] * scale_y),
                float(row[2] * scale_x),
                float(row[3] * scale_y),
            ),
            landmarks=row[4:14].reshape(5, 2).astype(np.float64) * scale,
            score=float(row[14]),
        )
        for row in rows
    ]
    found.sort(key=lambda f: (f.area, f.score), reverse=True)
    return found


def find_main_face(rgb: np.ndarray) -> DetectedFace:
    """The face a selfie is about (the largest detection), with `facekit.faces.find_main_face`'s
    Failures (NO_FACE, FACE_TOO_SMALL) and size limits."""
    from facekit.faces import MIN_EYE_DISTANCE, MIN_FACE_BOX

    height, width = rgb.shape[:2]
    if min(height, width) < MIN_FACE_BOX:
        raise Failure(
            Reason.FACE_TOO_SMALL,
            f"The picture is only {width}×{height} pixels: use a larger, closer photo.",
        )
    found = detect_faces(rgb)
    if not found:
        raise Failure(Reason.NO_FACE, "No face was found: use a photo of one face.")
    face = found[0]
    if face.eye_distance < MIN_EYE_DISTANCE or face.width < MIN_FACE_BOX:
        raise Failure(
            Reason.FACE_TOO_SMALL, "The face is too small in this picture: use a closer photo."
        )
    return face
