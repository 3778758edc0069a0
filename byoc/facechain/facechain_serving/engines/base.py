"""What every swap engine is and shares: the `Engine` interface and the face each swap needs.

The engines (cpu, facechain) import this module, never the package that chooses among them.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from facechain_serving.errors import NoFace
from facechain_serving.request import SwapOptions
from facekit import yunet


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


def find_face(rgb: np.ndarray, role: str) -> yunet.DetectedFace:
    """The largest face (YuNet: frontal or turned)."""
    found = yunet.detect_faces(rgb)
    if not found:
        raise NoFace(f"no face found in the {role} image")
    return found[0]
