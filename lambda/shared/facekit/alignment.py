"""Alignment of a face onto an embedder's 5-point template: the similarity transform (rotation,
uniform scale, translation) that takes the detected landmarks onto the template, then one warp.

SFace, like ArcFace models, was trained on 112×112 crops warped onto the template below, so the
512-D model of the training issue reuses it; an embedder with another template passes its own.
"""

from __future__ import annotations

import numpy as np

from facekit.faces import similarity_transform

# Eyes, nose tip, mouth corners (YuNet's landmark order) in a 112×112 crop: the ArcFace template
# OpenCV's FaceRecognizerSF.alignCrop uses for SFace.
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)


def template_matrix(landmarks: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    """2×3 matrix mapping image pixels onto a size×size crop (template given for 112 pixels)."""
    return similarity_transform(np.asarray(landmarks, np.float64)[:5], template * (size / 112.0))


def align_to_template(
    rgb: np.ndarray,
    landmarks: np.ndarray,
    template: np.ndarray = ARCFACE_TEMPLATE_112,
    size: int = 112,
) -> np.ndarray:
    """The size×size RGB crop with the 5 landmarks on the template (bilinear, as alignCrop)."""
    import cv2

    matrix = template_matrix(landmarks, template, size)
    return cv2.warpAffine(
        np.ascontiguousarray(rgb),
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
