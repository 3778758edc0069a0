"""Duplicates within an album: exact copies by SHA-256; near copies (re-encoded, resized, lightly
cropped, EXIF-rotated) by pHash candidates confirmed with SSIM on aligned downscaled copies.

Confirmation aligns before it compares: a light crop shifts and rescales the whole picture, so
the smaller view is searched for inside the larger one over a range of scales (normalised
cross-correlation, scikit-image's match_template) and SSIM is taken on the matched window.
Between pHash and SSIM, colour histograms drop most candidates that are other pictures. A
different shot of the same scene (a burst, the same person another day) moves the subject
against its background, which SSIM on the aligned copies sees.

Of a group, the highest resolution is kept, then the most faces, then the first uploaded; the
others are DUPLICATE of it. Thumbnails (≤ 320 px, what ingestion stores) are all it needs, and
only for pHash candidates. Numpy, scikit-image and imagehash; no OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Hamming distance (of 64 bits) under which two pHashes are candidates. Measured
# (benchmarks/bench_dedupe.py): re-encodes, resizes and rotations differ by 0–4 bits, light crops
# by up to 26, distinct photos by 16–44 — pHash alone cannot tell crops from other pictures, so it
# only bounds the work and SSIM decides.
PHASH_CANDIDATE_BITS = 28
# Intersection of 8×8×8 RGB histograms of the thumbnails, the second (cheap, crop-tolerant)
# filter. Measured: copies ≥ 0.86; of 3312 distinct pairs that pass pHash, 14 reach 0.70.
HISTOGRAM_CANDIDATE = 0.70
# SSIM of the aligned grey copies at or above which two photos are the same picture. Measured:
# true copies ≥ 0.54 (a 4% asymmetric crop resized and re-encoded), distinct candidates ≤ 0.42.
SSIM_DUPLICATE = 0.48
# The smaller view may be a crop keeping this much of the larger one's width, or more.
MIN_CROP_FRACTION = 0.80
COMPARE_SIDE = 96  # long side of the larger copy when comparing, in pixels
CORE = 0.8  # the middle of the smaller view searched for: this fraction of each side


@dataclass(frozen=True)
class PhotoFacts:
    """What de-duplication needs of a photo (all recorded at ingestion)."""

    photo_id: str
    sha256: str
    phash: str  # 16 hex digits
    width: int
    height: int
    face_count: int = 0  # known after DetectAlign; 0 before
    order: int = 0  # upload order: earlier wins a full tie

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass
class DedupeResult:
    duplicate_of: dict[str, str] = field(default_factory=dict)  # photo → the kept photo
    groups: list[list[str]] = field(default_factory=list)  # each group, kept photo first
    compared: int = 0  # SSIM confirmations run (pairs past both filters)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """Normalised 512-bin RGB histogram (3 bits a channel); grey pictures fill the diagonal."""
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    q = (rgb[..., :3] // 32).astype(np.intp)
    counts = np.bincount((q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]).ravel(), minlength=512)
    return counts / max(counts.sum(), 1)


def _grey(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _resize(grey: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    return resize(grey, shape, order=1, anti_aliasing=True, preserve_range=True)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    side = min(7, *a.shape)
    side -= 1 - side % 2  # an odd window
    return float(structural_similarity(a, b, data_range=255.0, win_size=side))


def aligned_similarity(a_rgb: np.ndarray, b_rgb: np.ndarray) -> float:
    """SSIM of two pictures on aligned grey copies COMPARE_SIDE long. Same aspect: compared as
    they are first (re-encodes, resizes, rotations). Otherwise, or when that is not enough, the
    smaller view is searched for inside the larger (widths MIN_CROP_FRACTION–1 of it, best
    translation by normalised cross-correlation at half size) and SSIM taken on the match."""
    from skimage.feature import match_template

    a, b = _grey(a_rgb), _grey(b_rgb)
    best = -1.0
    if abs(a.shape[0] / a.shape[1] - b.shape[0] / b.shape[1]) < 0.01:
        shape = _shape(a.shape, COMPARE_SIDE)
        best = _ssim(_resize(a, shape), _resize(b, shape))
        if best >= SSIM_DUPLICATE:
            return best
    for big, small in ((a, b), (b, a)):
        # The middle of the smaller view (CORE of each side) lies inside the other picture
        # whenever both are light crops of one photo, even when neither contains the other.
        cut = (round(small.shape[0] * (1 - CORE) / 2), round(small.shape[1] * (1 - CORE) / 2))
        core = small[cut[0] : small.shape[0] - cut[0], cut[1] : small.shape[1] - cut[1]]
        coarse = _resize(big, _shape(big.shape, COMPARE_SIDE // 2))
        fine = _resize(big, _shape(big.shape, COMPARE_SIDE))
        found = None
        for fraction in CORE * np.linspace(MIN_CROP_FRACTION, 1.0 / MIN_CROP_FRACTION, 7):
            width = round(coarse.shape[1] * fraction)
            height = round(width * core.shape[0] / core.shape[1])
            if height > coarse.shape[0] or width > coarse.shape[1] or min(height, width) < 8:
                continue
            ncc = match_template(coarse, _resize(core, (height, width)))
            y, x = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
            if found is None or ncc[y, x] > found[0]:
                found = (float(ncc[y, x]), fraction, y, x)
        if found is None:
            continue
        _, fraction, y, x = found
        ratio = fine.shape[1] / coarse.shape[1]
        width = min(round(fine.shape[1] * fraction), fine.shape[1])
        height = min(round(width * core.shape[0] / core.shape[1]), fine.shape[0])
        top = min(round(y * ratio), fine.shape[0] - height)
        left = min(round(x * ratio), fine.shape[1] - width)
        region = fine[top : top + height, left : left + width]
        best = max(best, _ssim(region, _resize(core, (height, width))))
    return best


def _shape(shape: tuple[int, ...], long_side: int) -> tuple[int, int]:
    factor = long_side / max(shape[:2])
    return max(8, round(shape[0] * factor)), max(8, round(shape[1] * factor))


def find_duplicates(
    photos: Sequence[PhotoFacts],
    thumbnail: Callable[[str], np.ndarray],
    *,
    new: Iterable[str] | None = None,
    known_duplicate_of: dict[str, str] | None = None,
) -> DedupeResult:
    """Groups of copies among `photos` and which one of each is kept.

    thumbnail(photo_id): its stored thumbnail (RGB or grey), loaded only for pHash candidates.
    new: the photos of this batch; pairs of two older photos were decided before and are not
    compared again (None: every pair). known_duplicate_of: those earlier decisions, kept.
    """
    by_id = {p.photo_id: p for p in photos}
    parent = {p.photo_id: p.photo_id for p in photos}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(x: str, y: str) -> None:
        parent[root(x)] = root(y)

    for dup, kept in (known_duplicate_of or {}).items():
        if dup in by_id and kept in by_id:
            join(dup, kept)

    fresh = set(by_id) if new is None else set(new) & set(by_id)
    ordered = sorted(photos, key=lambda p: p.order)
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def thumb(photo_id: str) -> tuple[np.ndarray, np.ndarray]:
        if photo_id not in cache:
            pixels = thumbnail(photo_id)
            cache[photo_id] = (pixels, colour_histogram(pixels))
        return cache[photo_id]

    result = DedupeResult()
    first_by_sha: dict[str, str] = {}
    for p in ordered:  # exact copies: no pixels needed
        if p.sha256 in first_by_sha:
            join(p.photo_id, first_by_sha[p.sha256])
        else:
            first_by_sha[p.sha256] = p.photo_id

    hashes = np.array([int(p.phash, 16) for p in ordered], dtype=np.uint64)
    for i, p in enumerate(ordered):
        others = hashes[:i]
        if not len(others):
            continue
        distance = np.bitwise_count(others ^ hashes[i])
        for j in np.flatnonzero(distance <= PHASH_CANDIDATE_BITS):
            q = ordered[int(j)]
            if p.photo_id not in fresh and q.photo_id not in fresh:
                continue
            if root(p.photo_id) == root(q.photo_id):
                continue
            (p_pixels, p_hist), (q_pixels, q_hist) = thumb(p.photo_id), thumb(q.photo_id)
            if np.minimum(p_hist, q_hist).sum() < HISTOGRAM_CANDIDATE:
                continue
            result.compared += 1
            if aligned_similarity(p_pixels, q_pixels) >= SSIM_DUPLICATE:
                join(p.photo_id, q.photo_id)

    members: dict[str, list[PhotoFacts]] = {}
    for p in ordered:
        members.setdefault(root(p.photo_id), []).append(p)
    for group in members.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda p: (-p.pixels, -p.face_count, p.order))
        kept = group[0].photo_id
        result.groups.append([p.photo_id for p in group])
        for p in group[1:]:
            result.duplicate_of[p.photo_id] = kept
    return result
