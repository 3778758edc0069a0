"""Identity embeddings: the `Embedder` interface, its registry, and which one runs.

An embedder turns aligned face crops into L2-normalised vectors; cosine similarity of two vectors
says how likely two faces are the same person. SFace 128-D is the default; the trained 512-D
model (issue 14) replaces it by configuration — register it under a name and set FACE_EMBEDDER:

    register_embedder("arcface-512", "facetrain.embedder:ArcFaceEmbedder")   # or a factory

Vectors of different embedders never mix: each carries `embedder.name`, and clustering refuses
vectors of another dimension. facekit's own embedders are `facekit.models.Model`s too: their
network loads on the first `embed`, not when `get_embedder` hands them out (alignment only
reads the template).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from facekit.alignment import ARCFACE_TEMPLATE_112, align_to_template
from facekit.models import Model

if TYPE_CHECKING:
    import cv2

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


class SFaceEmbedder(Model["cv2.dnn.Net"]):
    """SFace (OpenCV Zoo, Apache-2.0), int8: 112×112 aligned RGB → 128-D.

    Run by `cv2.dnn` with the input named `data` (FaceRecognizerSF.feature rejects the int8
    file). Same person: cosine ~0.5–0.9; different people: mostly < 0.3.
    """

    name = "sface-128"
    dim = 128
    crop_size = 112
    template = ARCFACE_TEMPLATE_112
    files = (SFACE_MODEL,)

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self._path = path  # a file elsewhere than the models folder
        self._forward_lock = threading.Lock()  # one network object: one forward pass at a time

    def paths(self) -> list[Path]:
        return [Path(self._path)] if self._path else super().paths()

    def _load(self) -> cv2.dnn.Net:
        import cv2

        (path,) = self.paths()
        return cv2.dnn.readNetFromONNX(str(path))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        import cv2

        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        net = self.get()
        out = np.empty((len(crops), self.dim), np.float32)
        # One crop per forward pass: cv2.dnn runs this int8 graph wrongly on batches (rows after
        # the first come back NaN or ~1e36, measured with OpenCV 4.12).
        for i, crop in enumerate(crops):
            # The crops are RGB already, the order SFace takes (alignCrop's BGR is swapped).
            blob = cv2.dnn.blobFromImage(np.ascontiguousarray(crop), 1.0, (112, 112), (0, 0, 0))
            with self._forward_lock:
                net.setInput(blob, "data")
                out[i] = net.forward().reshape(self.dim)
        return l2_normalised(out)


# name → a factory, or "module:attribute" imported on first use (so registering costs nothing).
_REGISTRY: dict[str, Callable[[], Embedder] | str] = {
    DEFAULT_EMBEDDER: "facekit.embedding:SFaceEmbedder",
}
_instances: dict[str, Embedder] = {}
_instances_lock = threading.Lock()


def register_embedder(name: str, factory: Callable[[], Embedder] | str) -> None:
    _REGISTRY[name] = factory
    _instances.pop(name, None)


def embedder_names() -> list[str]:
    return sorted(_REGISTRY)


def configured_embedder_name() -> str:
    return os.environ.get(EMBEDDER_ENV) or DEFAULT_EMBEDDER


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder named (default: $FACE_EMBEDDER, else sface-128), one instance per process
    (a Model among them loads its network on first use, once)."""
    name = name or configured_embedder_name()
    if name not in _REGISTRY:
        raise KeyError(f"unknown embedder {name!r}; registered: {', '.join(embedder_names())}")
    with _instances_lock:
        if name not in _instances:
            factory = _REGISTRY[name]
            if isinstance(factory, str):
                module, _, attribute = factory.partition(":")
                factory = getattr(importlib.import_module(module), attribute)
            _instances[name] = factory()
        return _instances[name]


def warm_up(name: str | None = None) -> None:
    """Load the embedder's network now (cold start) when it is a Model, so the first photo
    does not pay for it."""
    embedder = get_embedder(name)
    if isinstance(embedder, Model):
        embedder.get()
