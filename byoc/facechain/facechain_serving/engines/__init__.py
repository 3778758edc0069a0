"""Swap engines behind one small interface, chosen by SWAP_ENGINE (style_backend.config).

- facechain: ModelScope's face-fusion pipeline as FaceChain uses it (GPU image only);
- cpu: landmark warp + colour match + seamless blend with models from registry packages.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from facechain_serving.errors import NoFace
from facechain_serving.request import SwapOptions
from facekit import faces
from style_backend import config
from style_backend.config import EnvVar

ENGINE_NAMES = ("facechain", "cpu")
DEFAULT_ENGINE = "facechain"  # the image's purpose; the local runtime and tests set cpu


class Engine(Protocol):
    name: str

    def load(self) -> None:
        """Load models (slow; runs once before /ping turns 200)."""

    def swap(
        self, source_rgb: np.ndarray, target_rgb: np.ndarray, options: SwapOptions
    ) -> np.ndarray:
        """The target image with the source's face in place of its own, same size as the target.

        Raises NoFace when either image has no detectable face.
        """


def find_face(rgb: np.ndarray, role: str) -> faces.Face:
    """The largest face; retried with upsampling so small faces in wide style images count."""
    found = faces.detect_faces(rgb) or faces.detect_faces(rgb, upsample=1)
    if not found:
        raise NoFace(f"no face found in the {role} image")
    return found[0]


def engine_from_env() -> Engine:
    name = config.get(EnvVar.SWAP_ENGINE, DEFAULT_ENGINE).lower()
    return create_engine(name)


def create_engine(name: str) -> Engine:
    if name == "cpu":
        from facechain_serving.engines.cpu import CpuEngine

        return CpuEngine()
    if name == "facechain":
        from facechain_serving.engines.facechain import FaceChainEngine

        return FaceChainEngine()
    raise config.ConfigError(f"SWAP_ENGINE={name!r} is not one of {list(ENGINE_NAMES)}")
