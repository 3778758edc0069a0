"""Where the ONNX model files (YuNet, SFace, later the trained 512-D embedder) are found.

Deployments set FACE_MODELS_DIR (the imaging layer's /opt/face_models, a container's baked
folder); unset, the repository's .cache/models/, where set-up (scripts/fetch_photos.py) puts the
checksum-pinned files. Nothing is ever downloaded here.
"""

from __future__ import annotations

import os
from pathlib import Path

from facekit import MODELS_DIR_ENV

# lambda/shared/facekit/models.py → the repository root (dev, tests, the local runtime).
DEV_MODELS_DIR = Path(__file__).resolve().parents[3] / ".cache" / "models"


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
