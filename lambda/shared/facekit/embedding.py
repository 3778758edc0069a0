"""Identity embeddings: the `Embedder` interface, its registry, and which one runs.

An embedder turns aligned face crops into L2-normalised vectors; cosine similarity of two vectors
says how likely two faces are the same person. SFace 128-D is the default; the trained 512-D
model (issue 14) replaces it by configuration — register it under a name and set FACE_EMBEDDER:

    register_embedder("arcface-512", "facetrain.embedder:ArcFaceEmbedder")   # or a factory

Vectors of different embedders never mix: each carries `embedder.name`, and clustering refuses
vectors of another dimension.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from facekit.alignment import ARCFACE_TEMPLATE_112, align_to_template
from facekit.models import model_path

EMBEDDER_ENV = "FACE_EMBEDDER"
DEFAULT_EMBEDDER = "sface-128"
SFACE_MODEL = "face_recognition_sface_2021dec_int8bq.onnx"


@runtime_checkable
class Embedder(Protocol):
    name: str  # recorded beside every vector it makes
    dim: int
    crop_size: int  # side of the aligned square crop it takes
    template: np.ndarray  # (5, 2) landmark positions for a 112-pixel crop

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """(n, dim) float32, each row L2-normalised, for n aligned RGB uint8 crops."""
        ...


def align_for(embedder: Embedder, rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The crop `embedder` takes, of the face with these 5 landmarks."""
    return align_to_template(rgb, landmarks, embedder.template, embedder.crop_size)


def l2_normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SFaceEmbedder:
    """SFace (OpenCV Zoo, Apache-2.0), int8: 112×112 aligned RGB → 128-D.

    Run by `cv2.dnn` with the input named `data` (FaceRecognizerSF.feature rejects the int8
    file). Same person: cosine ~0.5–0.9; different people: mostly < 0.3.
    """

    name = "sface-128"
    dim = 128
    crop_size = 112
    template = ARCFACE_TEMPLATE_112

    def __init__(self, path: str | None = None) -> None:
        import cv2

        self._net = cv2.dnn.readNetFromONNX(str(path or model_path(SFACE_MODEL)))
        self._lock = threading.Lock()  # one network object: one forward pass at a time

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        import cv2

        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        out = np.empty((len(crops), self.dim), np.float32)
        # One crop per forward pass: cv2.dnn runs this int8 graph wrongly on batches (rows after
        # the first come back NaN or ~1e36, measured with OpenCV 4.12).
        for i, crop in enumerate(crops):
            # The crops are RGB already, the order SFace takes (alignCrop's BGR is swapped).
            blob = cv2.dnn.blobFromImage(np.ascontiguousarray(crop), 1.0, (112, 112), (0, 0, 0))
            with self._lock:
                self._net.setInput(blob, "data")
                out[i] = self._net.forward().reshape(self.dim)
        return l2_normalised(out)


# name → a factory, or "module:attribute" imported on first use (so registering costs nothing).
_REGISTRY: dict[str, Callable[[], Embedder] | str] = {
    DEFAULT_EMBEDDER: "facekit.embedding:SFaceEmbedder",
}
_loaded: dict[str, Embedder] = {}
_loaded_lock = threading.Lock()


def register_embedder(name: str, factory: Callable[[], Embedder] | str) -> None:
    _REGISTRY[name] = factory
    _loaded.pop(name, None)


def embedder_names() -> list[str]:
    return sorted(_REGISTRY)


def configured_embedder_name() -> str:
    return os.environ.get(EMBEDDER_ENV) or DEFAULT_EMBEDDER


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder named (default: $FACE_EMBEDDER, else sface-128), loaded once per process."""
    name = name or configured_embedder_name()
    if name not in _REGISTRY:
        raise KeyError(f"unknown embedder {name!r}; registered: {', '.join(embedder_names())}")
    with _loaded_lock:
        if name not in _loaded:
            factory = _REGISTRY[name]
            if isinstance(factory, str):
                module, _, attribute = factory.partition(":")
                factory = getattr(importlib.import_module(module), attribute)
            _loaded[name] = factory()
        return _loaded[name]
