"""Where the model files facekit runs are found, and `Model`, what every model built from them is.

Files: deployments set FACE_MODELS_DIR (the imaging layer's /opt/face_models, a container's baked
folder); unset, the repository's .cache/models/, where set-up (scripts/fetch_photos.py) puts the
checksum-pinned files. Nothing is ever downloaded here.

Models: YuNet (facekit.yunet.DETECTOR), Face Mesh (facekit.mesh.LANDMARK_NETWORK and TOPOLOGY),
the embedders (facekit.embedding.SFaceEmbedder) and dlib's (facekit.faces.HOG_DETECTOR,
SHAPE_PREDICTOR, DESCRIPTOR) each declare the files they read and load on first use. Standard
library only: this module ships in the shared layer, beside the imaging modules that use it.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Generic, TypeVar

from facekit import MODELS_DIR_ENV

# lambda/shared/facekit/models.py → the repository root (dev, tests, the local runtime).
DEV_MODELS_DIR = Path(__file__).resolve().parents[3] / ".cache" / "models"

Loaded = TypeVar("Loaded")


class ModelMissing(FileNotFoundError):
    """A model file is not where configuration says: a deployment or set-up error, never the
    user's. Callers let it fail the task (it is retried, then alarms), never the photo."""


def model_path(file_name: str) -> Path:
    """The path of a model file, or ModelMissing naming where it was looked for."""
    configured = os.environ.get(MODELS_DIR_ENV)
    folder = Path(configured) if configured else DEV_MODELS_DIR
    path = folder / file_name
    if not path.is_file():
        where = f"{MODELS_DIR_ENV}={configured}" if configured else f"{DEV_MODELS_DIR} (dev)"
        raise ModelMissing(f"{file_name} is not in {where}: run scripts/fetch_photos.py")
    return path


class Model(ABC, Generic[Loaded]):
    """A model built from `files` (a network session, a detector, data read from a file).

    Nothing is read until the first `get()`, so importing a module costs nothing and a step that
    never runs a model never pays for it. Loading happens under a lock: threads asking at once
    load once and share the result. `unload()` drops it (its memory goes once no caller still
    holds it); the next `get()` loads again. The lock guards loading only: a network that takes
    one forward pass at a time has its own lock.
    """

    # File names in the models folder (model_path): what a deployment must ship for this model.
    files: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: Loaded | None = None

    def paths(self) -> list[Path]:
        """Where its files are; ModelMissing when one is absent."""
        return [model_path(name) for name in self.files]

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def get(self) -> Loaded:
        """The loaded model, loading it first if no call has yet."""
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
                loaded = self._loaded
        return loaded

    def unload(self) -> None:
        with self._lock:
            self._loaded = None

    @abstractmethod
    def _load(self) -> Loaded:
        """Build the model from `paths()` (never None)."""
