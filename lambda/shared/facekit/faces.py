"""Face detection, 5-point landmarks, alignment and identity descriptors.

Models ship inside registry packages, nothing is downloaded at run time:
- detector: dlib's HOG frontal face detector (compiled into dlib, Boost licence);
- landmarks: dlib's 5-point shape predictor (CC0) — eye corners and the base of the nose;
- identity: dlib's ResNet 128-D face descriptor (CC0), used to measure that a swap keeps identity.
The 68-point model is never used: its training data forbids commercial use.

Model files come from FACE_MODELS_DIR (the Lambda layer and the container set it) or, when unset,
from the face-recognition-models package installed beside this one. The detector may also sit
there serialized (DETECTOR_MODEL, written by `python -m facekit.faces DIR` at build time):
it then loads in milliseconds instead of half a second of cold start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from facekit import MODELS_DIR_ENV
from facekit.errors import Failure, Reason

LANDMARK_MODEL = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
# dlib's own frontal HOG detector, serialized by write_detector() at build time (optional).
DETECTOR_MODEL = "frontal_face_detector.svm"

# Where the 5 landmarks of a face sit in an aligned square crop, as fractions of its side:
# eye centres and the base of the nose. The crop frames the whole head with some margin, so the
# swap engine and a person looking at it both get forehead, chin and ears.
ALIGNED_LEFT_EYE = (0.375, 0.42)  # the eye on the left of the image
ALIGNED_RIGHT_EYE = (0.625, 0.42)
ALIGNED_NOSE = (0.5, 0.56)

CROP_SIZE = 512
# Pixels an upload may declare: a 40 MP phone photo is fine, a decompression bomb is not.
MAX_PIXELS = 40_000_000
# Decoded size the face is found and cropped at: big enough that a selfie's eyes sit farther apart
# than in the 512² crop (no upscaling), small enough for JPEG draft decoding at 1/2 to 1/8 scale.
WORKING_MAX_SIDE = 1536
# Below these, in the pixels the crop is taken from, a crop is mostly upscaling blur.
MIN_EYE_DISTANCE = 24
MIN_FACE_BOX = 64
# Detection runs on a copy at most this large: HOG cost grows with pixels, and a selfie's face
# stays far above the detector's ~80 px minimum at this size (it must span ≥ 8% of the picture).
DETECT_MAX_SIDE = 1024
# HOG's false positives (a patch of fabric, a flag) score near 0 where faces score ~1: candidates
# scoring under this fraction of the best detection do not compete on size.
CANDIDATE_SCORE_FRACTION = 0.5
# Only pictures this small get the 4× dearer upsampled second pass when nothing was found.
UPSAMPLE_MAX_SIDE = 800


@dataclass(frozen=True)
class Face:
    """A detected face in image pixel coordinates."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    score: float  # detector confidence (HOG margin; > 0 is a detection)
    landmarks: np.ndarray  # (5, 2) float: dlib 5-point order (eye corners ×4, nose base)

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def area(self) -> int:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])

    def _eyes(self) -> tuple[np.ndarray, np.ndarray]:
        """Eye centres (mean of each eye's two corners), left-of-image first."""
        a = self.landmarks[0:2].mean(axis=0)
        b = self.landmarks[2:4].mean(axis=0)
        return (a, b) if a[0] <= b[0] else (b, a)

    @property
    def left_eye(self) -> np.ndarray:
        """Centre of the eye on the left of the image."""
        return self._eyes()[0]

    @property
    def right_eye(self) -> np.ndarray:
        return self._eyes()[1]

    @property
    def nose(self) -> np.ndarray:
        return self.landmarks[4]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.right_eye - self.left_eye))

    def scaled(self, factor: float) -> Face:
        """The same face in an image `factor` times larger."""
        box = tuple(round(v * factor) for v in self.box)
        return Face(box=box, score=self.score, landmarks=self.landmarks * factor)


def models_dir() -> Path:
    configured = os.environ.get(MODELS_DIR_ENV)
    if configured:
        return Path(configured)
    import face_recognition_models  # dev/test/local only; deployments set FACE_MODELS_DIR

    return Path(face_recognition_models.pose_predictor_five_point_model_location()).parent


@cache
def _detector():
    """The HOG detector: from its serialized file when the models directory has one (3 ms),
    else rebuilt from the copy compiled into dlib (~0.5 s of cold start)."""
    import dlib

    path = models_dir() / DETECTOR_MODEL
    if path.is_file():
        return dlib.fhog_object_detector(str(path))
    return dlib.get_frontal_face_detector()


def write_detector(directory: str | Path) -> Path:
    """Serialize dlib's frontal face detector into `directory` (the layer build does this
    once, so that every cold start loads it in milliseconds). The same detector, bit for bit."""
    import dlib

    path = Path(directory) / DETECTOR_MODEL
    dlib.get_frontal_face_detector().save(str(path))
    return path


@cache
def _shape_predictor():
    import dlib

    return dlib.shape_predictor(str(models_dir() / LANDMARK_MODEL))


@cache
def _descriptor_model():
    import dlib

    return dlib.face_recognition_model_v1(str(models_dir() / DESCRIPTOR_MODEL))


def warm_up() -> None:
    """Load the detector and landmark model (cold start) so the first request does not."""
    _detector()
    _shape_predictor()


def detect_faces(rgb: np.ndarray, upsample: int = 0) -> list[Face]:
    """All frontal faces in an RGB uint8 image, largest first.

    upsample=1 finds faces down to ~40 px at four times the cost; the default finds ~80 px faces.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    rects, scores, _ = _detector().run(rgb, upsample, 0.0)
    predictor = _shape_predictor()
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        shape = predictor(rgb, rect)
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        box = (max(rect.left(), 0), max(rect.top(), 0), rect.right(), rect.bottom())
        faces.append(Face(box=box, score=float(score), landmarks=pts))
    faces.sort(key=lambda f: (f.area, f.score), reverse=True)
    return faces


def find_main_face(rgb: np.ndarray) -> Face:
    """The face a selfie is about: the largest of the confident detections (the list is sorted
    by size, then score). Raises Failure
    (NO_FACE, FACE_TOO_SMALL) with a message a client can show."""
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_FACE_BOX:
        raise Failure(
            Reason.FACE_TOO_SMALL,
            f"The picture is only {width}×{height} pixels: use a larger, closer photo.",
        )
    factor = min(1.0, DETECT_MAX_SIDE / max(height, width))
    small = rgb if factor == 1.0 else _resized(rgb, factor)
    found = detect_faces(small)
    if not found and max(height, width) <= UPSAMPLE_MAX_SIDE:
        found = detect_faces(small, upsample=1)
    if not found:
        raise Failure(Reason.NO_FACE, "No face was found: use a photo of one face, front on.")
    best_score = max(f.score for f in found)
    main = next(f for f in found if f.score >= CANDIDATE_SCORE_FRACTION * best_score)
    face = main if factor == 1.0 else main.scaled(1.0 / factor)
    if face.eye_distance < MIN_EYE_DISTANCE or face.width < MIN_FACE_BOX:
        raise Failure(
            Reason.FACE_TOO_SMALL,
            "The face is too small in this picture: use a closer photo.",
        )
    return face


def _resized(rgb: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    height, width = rgb.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(
        Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    )


def crop_main_face(rgb: np.ndarray, size: int = CROP_SIZE) -> tuple[np.ndarray, Face]:
    """The aligned size×size crop of the main face, and that face (image coordinates)."""
    face = find_main_face(rgb)
    return align_face(rgb, face, size), face


def crop_from_upload(data: bytes, *, max_bytes: int, size: int = CROP_SIZE) -> np.ndarray:
    """The aligned crop of the main face of an uploaded file, or Failure with its reason.

    Any other error of a decoder on a crafted file becomes UNREADABLE_IMAGE: an upload must end
    FAILED, never in a retry loop.
    """
    from facekit import imaging

    try:
        decoded = imaging.decode_image(
            data, max_pixels=MAX_PIXELS, max_bytes=max_bytes, target_max_side=WORKING_MAX_SIDE
        )
        return crop_main_face(decoded.rgb, size)[0]
    except Failure:
        raise
    except Exception as err:
        raise Failure(Reason.UNREADABLE_IMAGE, "The picture could not be read.") from err


def alignment_matrix(face: Face, size: int) -> np.ndarray:
    """2×3 similarity transform mapping image pixels onto the aligned size×size crop."""
    src = np.stack([face.left_eye, face.right_eye, face.nose])
    dst = np.array([ALIGNED_LEFT_EYE, ALIGNED_RIGHT_EYE, ALIGNED_NOSE], dtype=np.float64) * size
    return similarity_transform(src, dst)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation taking src points onto dst (Umeyama)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / len(src)
    u, sing, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = (sing * d).sum() / s_c.var(axis=0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def warp_affine(
    rgb: np.ndarray, matrix: np.ndarray, size: int, *, resample: str = "bicubic"
) -> np.ndarray:
    """Warp an RGB image with a 2×3 forward matrix into a size×size image (Pillow)."""
    from PIL import Image

    return np.asarray(_warp(Image.fromarray(rgb), matrix, size, resample))


def _warp(image, matrix: np.ndarray, size: int, resample: str):
    from PIL import Image

    inv = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2].ravel()
    method = Image.Resampling[resample.upper()]
    return image.transform((size, size), Image.Transform.AFFINE, tuple(inv), resample=method)


def align_face(rgb: np.ndarray, face: Face, size: int = 512) -> np.ndarray:
    """The face rotated upright and scaled so its eyes and nose land on the ALIGNED_* points.

    Bilinear, as face-alignment pipelines commonly warp (3× cheaper than bicubic here); a shrink
    by 2× or more first box-filters the face's region by an integer factor, so it never aliases.
    """
    from PIL import Image

    matrix = alignment_matrix(face, size)
    image = Image.fromarray(rgb)
    factor = int(1.0 / np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if factor >= 2:
        # The source region the crop covers, in whole pixels of the reduced image.
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]]).T
        src = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2] @ corners
        left, top = (np.floor(src.min(axis=1) / factor) * factor).astype(int)
        right, bottom = (np.ceil(src.max(axis=1) / factor) * factor).astype(int)
        box = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
        if box[0] < box[2] and box[1] < box[3]:
            image = image.reduce(factor, box=box)
            # source = factor · reduced + box origin
            matrix = np.hstack(
                [
                    matrix[:, :2] * factor,
                    (matrix[:, :2] @ np.array(box[:2]) + matrix[:, 2])[:, None],
                ]
            )
    return np.asarray(_warp(image, matrix, size, "bilinear"))


def identity_descriptor(rgb: np.ndarray, face: Face) -> np.ndarray:
    """128-D identity vector; Euclidean distance < 0.6 means 'same person' for dlib's model."""
    import dlib

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    shape = _shape_predictor()(rgb, dlib.rectangle(*face.box))
    return np.array(_descriptor_model().compute_face_descriptor(rgb, shape, 1))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


if __name__ == "__main__":  # python -m facekit.faces DIR: what the layer build runs
    import sys

    print(write_detector(sys.argv[1]))
