"""Alignment of a face onto an embedder's 5-point template: the similarity transform (rotation,
uniform scale, translation) that takes the detected landmarks onto the template, then one warp.

SFace, like ArcFace models, was trained on 112×112 crops warped onto the template below, so the
512-D model of the training issue reuses it; an embedder with another template passes its own.
"""

from __future__ import annotations

import numpy as np

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


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation taking src points onto dst (Umeyama)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / len(src)
    u, sing, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = (sing * d).sum() / s_c.var(axis=0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


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
