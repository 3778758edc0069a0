"""YuNet face detection (OpenCV Zoo, Apache-2.0): every face of a photo with its box, 5 landmarks
and a confidence, frontal or not (turned heads, tilted faces, small faces in group photos).

Runs with onnxruntime (75 MB, where OpenCV is 150: the face crop's Lambda layer fits with room)
on OpenCV Zoo's pinned int8 YuNet file from FACE_MODELS_DIR (see facekit.models), edited in
memory into a form onnxruntime accepts (facekit.onnx_graph: same weights, same arithmetic).
Pre- and post-processing follow OpenCV's `cv2.FaceDetectorYN` step
by step (pad to a multiple of 32, BGR 0–255, sqrt(cls·obj) score, per-stride decoding, NMS):
tests/unit/test_facekit_yunet_sface.py compares both on the registry photos. Detection runs on a
copy at most DETECT_MAX_SIDE pixels long; boxes and landmarks come back in the coordinates of the
image given.

`find_main_face` is the styling crop's (facekit.faces.crop_main_face): the face it returns has
the `left_eye`/`right_eye`/`nose`/`width`/`eye_distance`/`scaled` that `facekit.faces.align_face`
uses, and its Failures are the crop's (NO_FACE, FACE_TOO_SMALL).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from facekit import onnx_graph
from facekit.errors import Failure, Reason
from facekit.models import Model

if TYPE_CHECKING:
    import onnxruntime

YUNET_MODEL = "face_detection_yunet_2023mar_int8bq.onnx"

# OpenCV Zoo's demo keeps 0.9, which loses real faces: on the registry photos, true faces score
# 0.75–0.96 (a head bowed in a group shot: 0.75), and nothing else scores above 0.3 except one dark
# patch in face-api's sample1 (0.75), which quality.py then marks TOO_BLURRY (sharpness 2).
SCORE_THRESHOLD = 0.7
NMS_THRESHOLD = 0.3
TOP_K = 5000
# Detection cost grows with pixels: on face-api's group shots a 960-long copy costs ~1.6× less
# than 1536 and finds the same faces. A face 10 px between the eyes at 1920 (the low-quality
# limit) is 5 px at 960, below what YuNet finds: callers wanting those pass max_side.
DETECT_MAX_SIDE = 960
# Tiled detection (detect_faces(tiled=True)): tiles overlap by a quarter, and keep only faces
# under a tenth of a tile (larger ones the whole pass finds, whole).
TILE_OVERLAP = 0.25
TILE_MAX_FACE = 0.10
# A find in a turned copy (detect_faces(turns=…)) needs more: its corners are padding.
TURNED_SCORE_THRESHOLD = 0.85
# Below these, in the pixels the crop is taken from, a styling crop is mostly upscaling blur.
MIN_EYE_DISTANCE = 24
MIN_FACE_BOX = 64
STRIDES = (8, 16, 32)
_OUTPUTS = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in STRIDES]


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


class YuNetNetwork(Model["onnxruntime.InferenceSession"]):
    """The network, as an onnxruntime session on the pinned file edited for it (onnx_graph)."""

    files = (YUNET_MODEL,)

    def _load(self) -> onnxruntime.InferenceSession:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # The file's unused initializers are warned about, harmlessly.
        options.log_severity_level = 3
        # One thread: the network is small (~10 ms on a 960² copy), and the functions running it
        # (a Lambda's one or two vCPUs, a step handling one photo) gain nothing from a thread pool.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        (path,) = self.paths()
        model = onnx_graph.for_onnxruntime(path.read_bytes())  # ~5 ms, once
        return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def outputs(self, blob: np.ndarray) -> dict[str, np.ndarray]:
        """The raw outputs (cls, obj, bbox, kps per stride) for a (1, 3, h, w) BGR blob."""
        return dict(zip(_OUTPUTS, self.get().run(_OUTPUTS, {"input": blob}), strict=True))


DETECTOR = YuNetNetwork()


def warm_up() -> None:
    """Load the model (cold start) so the first photo does not pay for it."""
    DETECTOR.get()


def detect_at_size(bgr: np.ndarray, score_threshold: float = SCORE_THRESHOLD) -> np.ndarray:
    """The network on a BGR image at its own size: (n, 15) rows as cv2.FaceDetectorYN.detect
    returns them (x, y, w, h, 5 landmarks x/y, score), after NMS, best first."""
    height, width = bgr.shape[:2]
    pad_h, pad_w = (-(-height // 32)) * 32, (-(-width // 32)) * 32
    blob = np.zeros((1, 3, pad_h, pad_w), np.float32)  # padded right and bottom with black
    blob[0, :, :height, :width] = np.moveaxis(bgr, 2, 0)
    outputs = DETECTOR.outputs(blob)
    rows = []
    for stride in STRIDES:
        cols = pad_w // stride
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0.0, 1.0)
        score = np.sqrt(cls * obj)
        (cells,) = np.nonzero(score >= score_threshold)
        if len(cells) == 0:
            continue
        grid = np.stack([cells % cols, cells // cols], axis=-1).astype(np.float32)
        bbox = outputs[f"bbox_{stride}"][0, cells]
        centre = (grid + bbox[:, :2]) * stride
        size = np.exp(bbox[:, 2:4]) * stride
        points = (outputs[f"kps_{stride}"][0, cells].reshape(-1, 5, 2) + grid[:, None]) * stride
        rows.append(
            np.hstack([centre - size / 2, size, points.reshape(-1, 10), score[cells, None]])
        )
    if not rows:
        return np.zeros((0, 15), np.float32)
    found = np.vstack(rows).astype(np.float32)
    return found[_nms(found[:, :4], found[:, 14])]


def _nms(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """cv2.dnn.NMSBoxes as FaceDetectorYN calls it: integer boxes, highest score first, a box
    dropped when its IoU with a kept one exceeds NMS_THRESHOLD."""
    rects = np.trunc(boxes).astype(np.int64)  # FaceDetectorYN's Rect2i(int(x), …)
    x1, y1 = rects[:, 0], rects[:, 1]
    x2, y2 = x1 + rects[:, 2], y1 + rects[:, 3]
    areas = rects[:, 2] * rects[:, 3]
    order = np.argsort(-scores, kind="stable")[:TOP_K]
    keep: list[int] = []
    for i in order:
        if keep:
            kept = np.array(keep)
            inter = np.clip(np.minimum(x2[i], x2[kept]) - np.maximum(x1[i], x1[kept]), 0, None)
            inter *= np.clip(np.minimum(y2[i], y2[kept]) - np.maximum(y1[i], y1[kept]), 0, None)
            union = areas[i] + areas[kept] - inter
            if np.any(inter > NMS_THRESHOLD * np.maximum(union, 1)):
                continue
        keep.append(int(i))
    return keep


def _shrunk(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Area-averaged downscale (what cv2.INTER_AREA does), with Pillow."""
    from PIL import Image

    height, width = rgb.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def detect_faces(
    rgb: np.ndarray,
    *,
    max_side: int = DETECT_MAX_SIDE,
    score_threshold: float = SCORE_THRESHOLD,
    tiled: bool = False,
    turns: tuple[float, ...] = (),
) -> list[DetectedFace]:
    """Every face of an RGB uint8 image scoring at least `score_threshold`, largest first.

    tiled: an image longer than `max_side` is also searched at its own size, tile by
    overlapping tile, for the faces the shrunk copy makes too small to find (a face 24 px wide
    in a 1536-px working copy is 15 px at 960, past YuNet's reach). Only small finds are kept
    from tiles: a larger face cut by a tile's edge is the whole pass's. turns: the shrunk copy
    is also searched turned by these angles (degrees, counter-clockwise), for heads tilted past
    the ~30° YuNet finds upright; a find keeps its own size, centred where it was found."""
    height, width = rgb.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    small = _shrunk(np.ascontiguousarray(rgb), factor) if factor < 1.0 else rgb
    rows = detect_at_size(small[:, :, ::-1].astype(np.float32), score_threshold)
    to_image = np.tile([width / small.shape[1], height / small.shape[0]], 7)  # small → rgb
    rows[:, :14] *= to_image
    tiles = _tile_rows(rgb, max_side, score_threshold) if tiled and factor < 1.0 else []
    turned = [_turned_rows(small, angle, score_threshold) for angle in turns]
    for found in turned:
        found[:, :14] *= to_image
    if tiles or turned:
        rows = np.vstack([rows, *tiles, *turned])
        # Upright finds first: a turned view only adds faces no upright pass found.
        upright = len(rows) - sum(len(t) for t in turned)
        rank = rows[:, 14] + (np.arange(len(rows)) < upright)
        rows = rows[_nms(rows[:, :4], rank)]
    found = [
        DetectedFace(
            box=tuple(float(v) for v in row[:4]),
            landmarks=row[4:14].reshape(5, 2).astype(np.float64),
            score=float(row[14]),
        )
        for row in rows
    ]
    found.sort(key=lambda f: (f.area, f.score), reverse=True)
    return found


def _tile_rows(rgb: np.ndarray, side: int, score_threshold: float) -> list[np.ndarray]:
    """Detections of the tiles (side², overlapping by TILE_OVERLAP) at full size, in image
    coordinates; only faces under TILE_MAX_FACE of a tile."""
    height, width = rgb.shape[:2]
    out = []
    for top in _starts(height, side):
        for left in _starts(width, side):
            tile = np.ascontiguousarray(rgb[top : top + side, left : left + side, ::-1])
            rows = detect_at_size(tile.astype(np.float32), score_threshold)
            rows = rows[np.maximum(rows[:, 2], rows[:, 3]) < TILE_MAX_FACE * side]
            rows[:, [0, 1]] += (left, top)  # box origin; width and height stay
            rows[:, 4:14] += np.tile([left, top], 5)  # landmarks
            out.append(rows)
    return out


def _turned_rows(small: np.ndarray, angle: float, score_threshold: float) -> np.ndarray:
    """Detections of the image turned by `angle`, mapped back onto it (its own coordinates):
    landmarks exactly, boxes as the face's own size around its mapped centre."""
    from PIL import Image

    height, width = small.shape[:2]
    turned = Image.fromarray(np.ascontiguousarray(small)).rotate(
        angle, resample=Image.Resampling.BILINEAR, expand=True
    )
    rows = detect_at_size(np.asarray(turned)[:, :, ::-1].astype(np.float32), score_threshold)
    # PIL turns counter-clockwise about the centre; undo it about the turned image's centre.
    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    back = np.array([[cos, -sin], [sin, cos]])

    def unturn(points: np.ndarray) -> np.ndarray:
        centred = points - (turned.width / 2, turned.height / 2)
        return centred @ back.T + (width / 2, height / 2)

    out = rows.copy()
    out[:, 4:14] = unturn(rows[:, 4:14].reshape(-1, 2)).reshape(-1, 10)
    centres = unturn(rows[:, :2] + rows[:, 2:4] / 2)
    out[:, :2] = centres - rows[:, 2:4] / 2
    # The turned image's corners are padding: a face there is none, and a turned view of a
    # blurred or busy picture fools the network more often than an upright one.
    points = out[:, 4:14].reshape(-1, 5, 2)
    inside = ((points >= 0) & (points < (width, height))).all(axis=(1, 2))
    return out[inside & (rows[:, 14] >= TURNED_SCORE_THRESHOLD)]


def _starts(length: int, side: int) -> list[int]:
    """Tile origins along one axis: tiles of `side` overlapping by at least TILE_OVERLAP."""
    if length <= side:
        return [0]
    count = int(np.ceil((length - side) / (side * (1 - TILE_OVERLAP)))) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def find_main_face(rgb: np.ndarray) -> DetectedFace:
    """The face a selfie is about (the largest detection), with `facekit.faces.find_main_face`'s
    Failures (NO_FACE, FACE_TOO_SMALL) and size limits."""
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
