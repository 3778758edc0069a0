"""CPU swap engine: YuNet + Face Mesh landmarks, a piecewise-affine warp over the mesh's 898
triangles, colour and lighting matched, Laplacian-pyramid (default), feathered or Poisson blend.

Models ship in registry packages (facekit.yunet, facekit.mesh); the local runtime, the tests and
the FaceChain image on CPU use it. The uploader's crop is warped triangle by triangle onto the
style's 468 mesh points, so the face takes the style's head pose, and its eyes and lips take the
style's expression; the rest of the mesh keeps half the uploader's own proportions (their 3-D
shape turned to the style's pose), which keeps who they are. Triangles the style's head turns
away, or that the uploader's photo does not show, stay the style's; so do the style's hair over
the face and whatever is not skin around the features, on either side, and the style's forehead
where the uploader's is hidden by a fringe whose colour passes for skin (hair_over_forehead).

`CpuEngine("similarity")` is the earlier engine's 5-point similarity warp (rotation, scale, shift)
with the same mask, colour and blend, kept so that benchmarks/bench_swap_quality.py measures what
the mesh buys: there, on 42 real uploader × style pairs, the mesh warp's pose error is a third of
it (468-point NME 0.034 against 0.092, worst yaw 8° against 20°); its identity margin is smaller
(median 0.31 against 0.48), every result still nearer the uploader than the style's person.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facechain_serving.engines.base import find_face
from facechain_serving.errors import NoFace
from facechain_serving.request import SwapOptions
from facekit import mesh, yunet
from facekit.faces import similarity_transform

WARPS = ("mesh", "similarity")
PYRAMID_LEVELS = 5
# Laplacian blend: the mask's edge blurred over this many eye distances at full resolution (the
# coarser levels blur it further), and how far the face's colours are carried past the mask first
# (_extended). On the 42 catalogue pairs, against 0.15 and an empty border (bench_swap_quality.py):
# no pale band (198 clipped pixels per result before), worst pose angle 8.0° against 9.2°, seam
# median 1.21 against 1.14, identity margin median 0.31 against 0.34 (worst 0.07 against 0.12).
BLEND_FEATHER = 0.3
EXTEND = 0.5
# The swapped region: the style's face outline shrunk by this many eye distances (the jaw line
# and hairline stay the style's). Smaller lost identity, larger showed the outline.
MASK_INSET = 0.05
# Feather blend: the mask's edge fades over this many eye distances, inside the mask.
FEATHER = 0.25
# Lighting: the style's lightness blurred over this many eye distances replaces the uploader's,
# so the light's direction carries over; finer detail stays the uploader's. On the 42 pairs
# (with the uploader's fringe left out, below): 0.7 kept identity in 41, 1.5 in all (margin
# median 0.29 against 0.25, seam 1.18 against 1.24); 0.35 had kept it in 13 of 42.
SHADING_BLUR = 1.5
# How far the uploader's own 3-D face shape moves the style's mesh points (0: the style's
# geometry exactly; 1: the uploader's shape in the style's pose). Measured on the 42 pairs: 0
# keeps identity in 29, 0.5 and 1 in all; 0.5 has the lower pose error.
SHAPE_WEIGHT = 0.5
# A turned uploader's crop hides part of the face the style shows: past this fraction of the
# style's face uncovered, the uploader's mirror image fills it.
MIRROR_FILL = 0.1
# Not skin: farther than this (Mahalanobis, LAB) from the skin colour read between eyes and mouth.
SKIN_DISTANCE = 5.0
# Hair over the uploader's forehead: fine-detail contrast (_texture, over this many eye
# distances) above HAIR_TEXTURE × its median on the skin between eyes and mouth, looked for from
# HAIR_GAP eye distances above the brows up (nearer, the brows' own edges read as texture). On
# the 6 uploaders' foreheads the median is 0.45–0.67× for skin, 1.26× on the astronaut's fringe.
TEXTURE_SCALE = 0.03
HAIR_TEXTURE = 1.0
HAIR_GAP = 0.1
# What a fringe's strands leave out between them: the hair found is widened by this many eye
# distances (at 0 the fringe stayed as vertical streaks), its edge then smoothed over
# HAIR_SMOOTH. Reaching farther down than 2 × HAIR_GAP cost the astronaut's identity on one style.
HAIR_WIDEN = 0.2
HAIR_SMOOTH = 0.05
# The style's brows grown by this many eye distances: there the uploader's face is drawn even
# where the hair test found a fringe (else the style's brows, if higher, showed above ours).
BROW_COVER = 0.1


@dataclass(frozen=True)
class SwapFace:
    detected: yunet.DetectedFace
    mesh: mesh.FaceMesh

    @property
    def eye_distance(self) -> float:
        return self.mesh.eye_distance


def locate(rgb: np.ndarray, role: str) -> SwapFace:
    """The image's main face with its mesh; NoFace naming the image otherwise."""
    detected = find_face(rgb, role)
    try:
        return SwapFace(detected, mesh.face_mesh(rgb, detected.landmarks, detected.box))
    except mesh.NoMesh:
        raise NoFace(f"no face found in the {role} image") from None


WARPS = ("mesh", "similarity")


class CpuEngine:
    name = "cpu"

    def __init__(self, warp: str = "mesh") -> None:
        if warp not in WARPS:
            raise ValueError(f"warp must be one of {WARPS}")
        self.warp = warp

    def load(self) -> None:
        yunet.warm_up()
        mesh.warm_up()

    def swap(
        self, source_rgb: np.ndarray, target_rgb: np.ndarray, options: SwapOptions
    ) -> np.ndarray:
        src = locate(source_rgb, "source")
        dst = locate(target_rgb, "target")
        if self.warp == "similarity":
            warped, covered = similarity_warp(source_rgb, src, dst, target_rgb.shape[:2])
        else:
            warped, covered = mesh_warp(source_rgb, src, dst, target_rgb.shape[:2])
        outline = swap_mask(dst, target_rgb.shape[:2])
        if self.warp == "mesh" and (outline & ~covered).sum() > MIRROR_FILL * outline.sum():
            warped, covered = _fill_from_mirror(source_rgb, dst, warped, covered)
        mask = outline & covered
        mask = skin_only(mask, target_rgb, dst)
        if not mask.any():
            return target_rgb.copy()  # nothing of the source lands on the target's face
        matched = match_lighting(warped, target_rgb, mask, dst.eye_distance)
        if options.blend == "poisson":
            return poisson_blend(matched, target_rgb, mask)
        if options.blend == "laplacian":
            return laplacian_blend(matched, target_rgb, mask, dst.eye_distance)
        return feather_blend(matched, target_rgb, mask, dst.eye_distance)


# ---------------------------------------------------------------- geometry


def _area(points2d: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Signed area (pixels) of each triangle in the image."""
    a, b, c = (points2d[triangles[:, i]] for i in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return cross / 2


def _visible(points2d: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Triangles facing the camera: wound like most of the mesh's area (a turned-away triangle
    flips its winding in the image)."""
    area = _area(points2d, triangles)
    return (area * np.sign(np.sum(area))) > 1e-6


def _eye_level(face: mesh.FaceMesh, xy: np.ndarray | None = None) -> np.ndarray:
    """(…, 2) image points (the mesh's 468 by default) in a frame with the left-of-image eye at
    0, the other on +x."""
    left, right = face.eye_centres
    d = right - left
    c, s = d / np.linalg.norm(d)
    return ((face.xy if xy is None else xy) - left) @ np.array([[c, -s], [s, c]])


def _goal(src: mesh.FaceMesh, dst: mesh.FaceMesh, weight: float) -> np.ndarray:
    """(468, 2) where the source's mesh points go. The source's 3-D shape turned, scaled and
    shifted onto the target's (Umeyama in 3-D) keeps the uploader's proportions in the style's
    pose; the style's expression comes back by putting the target's own eyes and lips, moved and
    scaled onto those places, in their stead. `weight` blends that with the target's points."""
    if weight <= 0:
        return dst.xy
    a, b = src.points, dst.points
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    ac, bc = a - mu_a, b - mu_b
    u, sing, vt = np.linalg.svd(bc.T @ ac)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ fix @ vt
    scale = float((sing * np.diag(fix)).sum() / (ac**2).sum())
    goal = (scale * ac @ rotation.T + mu_b)[:, :2]
    for region in mesh.expression_regions():
        theirs, ours = b[region, :2], goal[region]
        theirs_c, ours_c = theirs - theirs.mean(axis=0), ours - ours.mean(axis=0)
        spread = np.sqrt((ours_c**2).sum() / max((theirs_c**2).sum(), 1e-9))
        goal[region] = theirs_c * spread + ours.mean(axis=0)
    return b[:, :2] + weight * (goal - b[:, :2])


def mesh_warp(
    source: np.ndarray, src: SwapFace, dst: SwapFace, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The source's face drawn onto the target's mesh, and a uint8 mask (255) of the pixels it
    covers. Each target pixel takes the source pixel at the same barycentric position in the
    same triangle; nearer triangles hide farther ones (painter's order on the target's depth)."""
    height, width = shape
    triangles = mesh.triangles()
    s_xy = src.mesh.xy
    d_xy = _goal(src.mesh, dst.mesh, SHAPE_WEIGHT)
    # Every triangle the style shows is drawn, also those the uploader's turned head hides or
    # foreshortens (their texture stretched: smoother than leaving the style's own face there);
    # only triangles with no area in the source have nothing to give.
    keep = _visible(d_xy, triangles) & (np.abs(_area(s_xy, triangles)) > 0.05)
    kept = triangles[keep]
    # Work inside the target face's box only.
    lo = np.maximum(np.floor(d_xy.min(axis=0)).astype(int) - 2, 0)
    hi = np.minimum(np.ceil(d_xy.max(axis=0)).astype(int) + 3, [width, height])
    box_w, box_h = hi - lo
    if box_w <= 0 or box_h <= 0 or not len(kept):
        return np.zeros((height, width, 3), np.uint8), np.zeros(shape, np.uint8)
    ids = np.full((box_h, box_w), 0xFFFF, np.uint16)
    depth = dst.mesh.points[kept, 2].mean(axis=1)
    shift = 4  # sub-pixel vertices: 1/16 px
    local = np.round((d_xy - lo) * (1 << shift)).astype(np.int32)
    for index in np.argsort(-depth):  # farthest first
        cv2.fillConvexPoly(ids, local[kept[index]], int(index), cv2.LINE_8, shift)
    # Per triangle, the affine map target → source: [x y 1] @ coefficients.
    corners = np.concatenate([d_xy[kept], np.ones((len(kept), 3, 1))], axis=2)
    coefficients = np.linalg.solve(corners, s_xy[kept])  # (n, 3, 2)
    rows, cols = np.nonzero(ids != 0xFFFF)
    which = ids[rows, cols]
    pixels = np.stack([cols + lo[0], rows + lo[1], np.ones_like(cols)], axis=1).astype(np.float64)
    mapped = np.einsum("nk,nkj->nj", pixels, coefficients[which])
    map_x = np.full((box_h, box_w), -1.0, np.float32)
    map_y = np.full((box_h, box_w), -1.0, np.float32)
    map_x[rows, cols], map_y[rows, cols] = mapped[:, 0], mapped[:, 1]
    patch = cv2.remap(
        source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    # Only the source's own skin: its hair and background at the face's edges never stretch over
    # the style's forehead or a turned head's cheek, nor does a fringe the colour test lets pass.
    # 2: skin, 1: skin under a fringe, 0: neither; one remap carries both.
    usable = (skin_only(swap_mask(src, source.shape[:2], inset=0.0), source, src) > 0) * 2
    usable = usable.astype(np.uint8)
    usable[(usable > 0) & hair_over_forehead(source, src)] = 1
    landed = cv2.remap(usable, map_x, map_y, cv2.INTER_NEAREST, borderValue=0)
    # Over the style's brows the uploader's face is drawn whatever the hair test found there:
    # where a fringe left the style's own forehead, the style's brows must not show above ours.
    over_brows = _brows(dst, (box_h, box_w), origin=lo) > 0
    inside = (landed == 2) | (over_brows & (landed == 1))
    warped = np.zeros((height, width, 3), np.uint8)
    covered = np.zeros(shape, np.uint8)
    warped[lo[1] : hi[1], lo[0] : hi[0]] = patch
    covered[lo[1] : hi[1], lo[0] : hi[0]] = inside.astype(np.uint8) * 255
    return warped, cv2.erode(covered, np.ones((3, 3), np.uint8))


def _fill_from_mirror(
    source: np.ndarray, dst: SwapFace, warped: np.ndarray, covered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where a turned uploader's face does not show the side the style shows, the uploader's
    mirror image does (faces are near symmetric): warp that too and fill the gaps with it."""
    flipped = np.ascontiguousarray(source[:, ::-1])
    try:
        mirrored = locate(flipped, "source")
    except NoFace:
        return warped, covered
    more, more_covered = mesh_warp(flipped, mirrored, dst, covered.shape)
    gap = (more_covered > 0) & (covered == 0)
    warped, covered = warped.copy(), covered.copy()
    warped[gap], covered[gap] = more[gap], 255
    return warped, covered


def similarity_warp(
    source: np.ndarray, src: SwapFace, dst: SwapFace, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The earlier engine's warp: one rotation + scale + shift fitting the 5 YuNet points."""
    height, width = shape
    matrix = similarity_transform(src.detected.landmarks, dst.detected.landmarks)
    warped = cv2.warpAffine(
        source, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    covered = cv2.warpAffine(
        np.full(source.shape[:2], 255, np.uint8),
        matrix,
        (width, height),
        flags=cv2.INTER_NEAREST,
        borderValue=0,
    )
    return warped, cv2.erode(covered, np.ones((5, 5), np.uint8))


def skin_only(mask: np.ndarray, target: np.ndarray, face: SwapFace) -> np.ndarray:
    """The mask less what is not the face's skin (hair over the forehead, a hand over a cheek)
    outside the features (eyes, brows, nose, lips are kept whatever their colour): LAB colour
    farther than SKIN_DISTANCE (Mahalanobis) from the skin between the eyes and the mouth."""
    inner = mesh.feature_points()
    protect = np.zeros(mask.shape, np.uint8)
    hull = cv2.convexHull(np.round(face.mesh.xy[inner]).astype(np.int32))
    cv2.fillConvexPoly(protect, hull, 255)
    lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    points = _skin_points(face, mask.shape)
    smooth = cv2.GaussianBlur(lab, (5, 5), 0)
    sample = smooth[points[:, 1], points[:, 0]]
    if len(sample) < 20:
        return mask
    mean = sample.mean(axis=0)
    cov_inv = np.linalg.inv(np.cov(sample.T) + np.eye(3) * 4.0)
    x, y, w, h = cv2.boundingRect(mask)  # the distance is only needed inside the mask
    d = lab[y : y + h, x : x + w] - mean
    far = (np.einsum("...i,ij,...j->...", d, cov_inv, d) > SKIN_DISTANCE**2).astype(np.uint8)
    far = cv2.morphologyEx(far, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    out = mask.copy()
    out[y : y + h, x : x + w][(far > 0) & (protect[y : y + h, x : x + w] == 0)] = 0
    return out


def _skin_points(face: SwapFace, shape: tuple[int, int]) -> np.ndarray:
    """(n, 2) integer x, y of the mesh points between the eyes and the mouth, the nose's sides and
    cheeks, inside the image: where a face is its skin."""
    level = _eye_level(face.mesh)
    mouth = level[list(mesh.MOUTH_CORNERS), 1].mean()
    band = (level[:, 1] > 0.2 * face.eye_distance) & (
        level[:, 1] < mouth - 0.15 * face.eye_distance
    )
    band &= (level[:, 0] > -0.1 * face.eye_distance) & (level[:, 0] < 1.1 * face.eye_distance)
    points = np.round(face.mesh.xy[band]).astype(int)
    return points[(points >= 0).all(axis=1) & (points[:, 0] < shape[1]) & (points[:, 1] < shape[0])]


def _texture(lightness: np.ndarray, eye_dist: float) -> np.ndarray:
    """Local contrast of fine detail: hair's strands have much, skin little."""
    detail = lightness - cv2.GaussianBlur(lightness, (0, 0), eye_dist * TEXTURE_SCALE)
    return np.sqrt(cv2.GaussianBlur(detail**2, (0, 0), eye_dist * TEXTURE_SCALE * 1.5))


def _above_brows(
    face: SwapFace, shape: tuple[int, int], origin: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Each pixel's height above the face's highest brow point, in eye distances, in the face's
    own upright frame (negative below); `origin`: the image position of the grid's first pixel."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    pixels = np.stack([cols + origin[0], rows + origin[1]], axis=-1).astype(np.float64)
    brows = _eye_level(face.mesh)[mesh.brow_points(), 1].min()
    return (brows - _eye_level(face.mesh, pixels)[..., 1]) / face.eye_distance


def _brows(face: SwapFace, shape: tuple[int, int], origin: tuple[int, int]) -> np.ndarray:
    """uint8 mask (255) of the face's two brows, grown by BROW_COVER eye distances."""
    out = np.zeros(shape, np.uint8)
    for points in mesh.brows():
        hull = cv2.convexHull(np.round(face.mesh.xy[points] - origin).astype(np.int32))
        cv2.fillConvexPoly(out, hull, 255)
    reach = _odd(2 * BROW_COVER * face.eye_distance)
    return cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))


def hair_over_forehead(rgb: np.ndarray, face: SwapFace) -> np.ndarray:
    """bool mask: hair above an upright face's brows, however near skin its colour (a blonde or
    brown fringe on a fair face passes skin_only): fine detail far stronger than the skin's, and
    everything above it in its column (a fringe hangs from above), widened by HAIR_WIDEN. Columns
    are the image's: the crop the engine gets is upright."""
    height, width = rgb.shape[:2]
    points = _skin_points(face, (height, width))
    if len(points) < 20:
        return np.zeros((height, width), bool)
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    texture = _texture(lightness, face.eye_distance)
    reference = float(np.median(texture[points[:, 1], points[:, 0]]))
    above = _above_brows(face, (height, width)) * face.eye_distance
    gap = HAIR_GAP * face.eye_distance
    hair = ((above > gap) & (texture > HAIR_TEXTURE * reference)).astype(np.uint8)
    hair = cv2.morphologyEx(hair, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # Only what hangs from the hair past the face's outline (strands a little apart joined
    # first): a wrinkle or a freckle on the forehead is textured too, but stands alone.
    joined = cv2.dilate(hair, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(gap),) * 2))
    _, labels = cv2.connectedComponents(joined)
    outside = swap_mask(face, (height, width), inset=0.0) == 0
    hanging = np.unique(labels[(labels > 0) & outside])
    hair &= np.isin(labels, hanging).astype(np.uint8)
    hair = np.maximum.accumulate(hair[::-1], axis=0)[::-1]
    reach = (_odd(HAIR_WIDEN * face.eye_distance), _odd(2 * gap))
    grown = cv2.dilate(hair, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, reach))
    # A smooth edge: the strands' tips drew a jagged line across the forehead.
    grown = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), HAIR_SMOOTH * face.eye_distance)
    return (grown > 0.5) & (above > 0)


def swap_mask(face: SwapFace, shape: tuple[int, int], inset: float = MASK_INSET) -> np.ndarray:
    """uint8 mask (255 inside): the face's outline, shrunk by `inset` eye distances, with a margin
    off the image's border (Poisson cloning needs one)."""
    outline = face.mesh.xy[mesh.face_oval()]
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline * 16).astype(np.int32)], 255, cv2.LINE_8, 4)
    inset = max(1, round(face.eye_distance * inset))
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0
    return mask


def paste(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The baseline the benchmark and tests measure against, never served: the source's face
    scaled to the target's eye distance and centred on its eyes, without rotation or any other
    warp; hard edge, no colour match."""
    src, dst = locate(source, "source"), locate(target, "target")
    scale = dst.eye_distance / src.eye_distance
    shift = np.mean(dst.mesh.eye_centres, axis=0) - scale * np.mean(src.mesh.eye_centres, axis=0)
    matrix = np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]])
    height, width = target.shape[:2]
    moved = cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(swap_mask(src, source.shape[:2]), matrix, (width, height)) > 127
    out = target.copy()
    out[mask] = moved[mask]
    return out


# ---------------------------------------------------------------- colour and blending


def _odd(value: float) -> int:
    return max(3, int(value)) | 1


def _wide_blur(image: np.ndarray, size: float) -> np.ndarray:
    """A Gaussian blur `size` pixels wide, run on the image shrunk to ~32 samples across the
    kernel and enlarged back: what it keeps is far coarser than that grid, and a 400-pixel kernel
    at full size cost ~60 ms a call."""
    factor = max(1, int(size // 32))
    if factor == 1:
        return cv2.GaussianBlur(image, (_odd(size),) * 2, 0)
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (_odd(size / factor),) * 2, 0)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def match_lighting(
    face: np.ndarray, target: np.ndarray, mask: np.ndarray, eye_dist: float
) -> np.ndarray:
    """The face with the target's colour statistics (LAB mean/std inside the mask), then the
    target's shading: the difference of the two images' blurred lightness, blurred inside the
    mask only (normalised convolution), so neither background nor hair leaks in."""
    inside = mask > 0
    src = cv2.cvtColor(face.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    dst = cv2.cvtColor(target.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)
    s_mean, s_std = src[inside].mean(axis=0), src[inside].std(axis=0) + 1e-6
    d_mean, d_std = dst[inside].mean(axis=0), dst[inside].std(axis=0)
    # Cap the stretch: a flat-lit source must not have its noise amplified into blotches.
    out = (src - s_mean) * np.clip(d_std / s_std, 0.5, 2.0) + d_mean
    size = eye_dist * SHADING_BLUR * 2
    weight = _wide_blur(inside.astype(np.float32), size) + 1e-6

    def shading(lightness: np.ndarray) -> np.ndarray:
        return _wide_blur(lightness * inside, size) / weight

    out[..., 0] += (shading(dst[..., 0]) - shading(out[..., 0])) * inside
    rgb = cv2.cvtColor(
        np.clip(out, [0, -128, -128], [100, 127, 127]).astype(np.float32), cv2.COLOR_LAB2RGB
    )
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


def feather_blend(
    face: np.ndarray, target: np.ndarray, mask: np.ndarray, eye_dist: float
) -> np.ndarray:
    """Alpha blend over a mask eroded then blurred by FEATHER eye distances: the edge fades
    inside the mask, never outside it."""
    reach = _odd(eye_dist * FEATHER)
    inner = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    alpha = cv2.GaussianBlur(inner.astype(np.float32) / 255, (reach * 2 + 1,) * 2, 0)
    alpha = np.minimum(alpha, mask.astype(np.float32) / 255)[..., None]
    out = face.astype(np.float32) * alpha + target.astype(np.float32) * (1 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def poisson_blend(face: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """cv2.seamlessClone, its ROI kept in place (centre = mask box centre, as OpenCV computes)."""
    x, y, w, h = cv2.boundingRect(mask)
    centre = (x + w // 2, y + h // 2)
    return cv2.seamlessClone(face, target, mask, centre, cv2.NORMAL_CLONE)


def _extended(face: np.ndarray, mask: np.ndarray, target: np.ndarray, eye_dist: float):
    """The face inside the mask; outside, its colours carried a little way out and fading into
    the target's (a mean over EXTEND eye distances of the face and of the mask). Left empty
    (black), that border enters every pyramid band as an edge and the blend rings along it: a
    pale or dark band across the forehead."""
    size = _odd(eye_dist * EXTEND)
    out = target.copy()
    # Only around the mask: past `size` pixels from it, the target's own pixels are the answer.
    x, y, w, h = cv2.boundingRect(mask)
    x0, y0 = max(x - size, 0), max(y - size, 0)
    x1, y1 = min(x + w + size, mask.shape[1]), min(y + h + size, mask.shape[0])
    box = np.s_[y0:y1, x0:x1]
    inside = mask[box].astype(np.float32) / 255
    # Box filters (constant time per pixel, whatever `size`): a Gaussian this wide cost ~80 ms.
    carried = cv2.blur(face[box] * inside[..., None], (size, size))
    weight = cv2.blur(inside, (size, size))[..., None]
    out[box] = np.where(inside[..., None] > 0, face[box], carried + (1 - weight) * target[box])
    return out


def laplacian_blend(
    face: np.ndarray, target: np.ndarray, mask: np.ndarray, eye_dist: float
) -> np.ndarray:
    """Multi-band blend: low frequencies mix over wide bands, details over narrow ones."""
    feather = _odd(eye_dist * BLEND_FEATHER)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (feather, feather), 0)
    bg = target.astype(np.float32)
    fg = _extended(face.astype(np.float32), mask, bg, eye_dist)
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
    reach = _odd(eye_dist * 0.25)
    outer = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    keep = cv2.GaussianBlur(outer.astype(np.float32) / 255, (reach, reach), 0)[..., None]
    out = blended * keep + bg * (1 - keep)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
