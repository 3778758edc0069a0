"""Real face photos that ship inside registry packages (nothing committed, nothing downloaded)."""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def astronaut() -> np.ndarray:
    """Eileen Collins, NASA portrait (public domain), 512×512 RGB, from scikit-image's wheel."""
    from skimage import data

    return data.astronaut()
