"""Duplicates within an album: the same picture, not the same scene.

A duplicate is the same picture re-encoded, resized, converted, lightly cropped (up to 10% a
side), EXIF-rotated or lightly colour-adjusted. Different shots (other people, the same person
another time, a burst) never are. Three checks decide, cheapest first:

1. Candidates: exact copies by SHA-256; otherwise pHash within PHASH_CANDIDATE_BITS. pHash only
   bounds the work: on plain backgrounds different pictures collide (a white ID photo is mostly
   white), so it never decides.
2. Faces (known once ProcessPhoto ran): two copies show the same faces at the same
   places. The faces give the geometry (scale and shift from one picture to the other, from the
   landmarks of faces of one identity), and then every face either picture shows inside the
   part both show must have a counterpart of the same person (cosine ≥ SAME_PERSON) at the same
   place. Faces that differ in count or identity there: not duplicates, whatever the pixels say.
   Without faces, the geometry comes from the pixels (the smaller view searched for inside the
   larger, normalised cross-correlation over a range of scales).
3. Content: SSIM of the two views of the shared part, averaged over content only: pixels where
   either picture has texture (local contrast above CONTENT_CONTRAST). Uniform areas (studio
   backdrops, white ID photos, sky, scan borders, letterboxing) do not vote; a picture with
   almost no content left is never called a duplicate (only its exact copy is).

Of a group the highest resolution is kept, then the most faces, then the first uploaded; the
others are DUPLICATE of it. Pairs a user said are not duplicates (`kept_apart`) are never joined,
nor are groups that would contain such a pair. Numpy and scikit-image; thumbnails (≤ 320 px, what
ingestion stores) and face facts are loaded only for candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faceflow.domain.clustering import ASSIGN_THRESHOLD

# Hamming distance (of 64 bits) under which two pHashes are candidates. Measured
# (benchmarks/bench_dedupe.py): re-encodes, resizes, rotations and colour changes differ by 0–6
# bits, crops of up to 10% a side by up to 30; only the checks below decide.
PHASH_CANDIDATE_BITS = 32
# Cosine of two face vectors at or above which they are the same person: the clustering's
# assignment threshold, so one rule serves both.
SAME_PERSON = ASSIGN_THRESHOLD
# A face's box mapped from one copy onto the other has its centre within this fraction of the
# face's size of its counterpart's (measured on copies: ≤ 0.15, crops that move YuNet's box
# included).
PLACE_TOLERANCE = 0.30
# The part both pictures show spans at least this fraction of each one's width and height: a
# light crop takes up to 10% a side (0.8 kept), a heavier one makes a new picture.
MIN_SHARED_SIDE = 0.78
FRAME_SLACK = 0.15  # faces_may_match(): how much less of each frame the faces may place shared
# Faces wholly inside the shared part, by this margin of its size, must match; those cut by a
# crop's edge need not.
EDGE_MARGIN = 0.02
# SSIM over content pixels at or above which two aligned views are the same picture.
CONTENT_SSIM = 0.60
# Local contrast (grey-level standard deviation over a 7×7 window, of 255) above which a pixel
# is content. JPEG noise on a flat backdrop stays under 2; skin, hair, fabric and foliage are
# far above.
CONTENT_CONTRAST = 4.0
# Below this fraction of content pixels a picture is "uniform" and only exact copies are joined.
MIN_CONTENT = 0.03
COMPARE_SIDE = 128  # long side of the shared part when comparing, in pixels
MIN_CROP_FRACTION = 0.80  # the pixel search: the smaller view's width, of the larger's, or more
CORE = 0.8  # the middle of the smaller view searched for: this fraction of each side
REFINE_SCALE, REFINE_STEPS = 0.06, 6  # refine(): ±6% of scale, to 1%
REFINE_SIDE = 160  # refine() works on copies this long
# SSIM over content before refine() under which even a rough alignment of copies cannot be
# (copies measured ≥ 0.40 rough): spares refine() the hopeless pairs.
ROUGH_SSIM = 0.30
# Normalised cross-correlation of the coarse search under which the smaller view is nowhere in
# the larger (copies ≥ 0.8 measured; it only spares refine() and SSIM the hopeless pairs).
SEARCH_NCC = 0.5
# Hamming distance between content hashes (content_hash) over which two pictures are not
# compared further: copies differ by ≤ 24 bits measured, crops included.
CONTENT_HASH_BITS = 30


@dataclass(frozen=True)
class PhotoFaces:
    """A photo's faces as ProcessPhoto recorded them, in original-photo pixels."""

    boxes: np.ndarray  # (n, 4) x, y, width, height
    landmarks: np.ndarray  # (n, 5, 2)
    vectors: np.ndarray  # (n, d), L2-normalised
    # (n,) faces too small or blurred to be found for sure in every copy (quality.py's low
    # quality): they need no counterpart, though they may serve one.
    unsure: np.ndarray | None = None

    @classmethod
    def none(cls) -> PhotoFaces:
        return cls(np.zeros((0, 4)), np.zeros((0, 5, 2)), np.zeros((0, 1)))

    def required(self) -> np.ndarray:
        sure = np.ones(len(self), bool)
        return sure if self.unsure is None else sure & ~np.asarray(self.unsure, bool)

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass(frozen=True)
class PhotoFacts:
    """What de-duplication needs of a photo (all recorded at ingestion)."""

    photo_id: str
    sha256: str
    phash: str  # 16 hex digits
    width: int
    height: int
    face_count: int = 0  # known after ProcessPhoto
    order: int = 0  # upload order: earlier wins a full tie

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Mapping:
    """Where B's pixels land in A's: a = scale · b + shift (original-photo pixels)."""

    scale: float
    shift: np.ndarray  # (2,) x, y

    def forward(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, float) * self.scale + self.shift

    def inverse(self) -> Mapping:
        return Mapping(1.0 / self.scale, -self.shift / self.scale)


@dataclass
class DedupeResult:
    duplicate_of: dict[str, str] = field(default_factory=dict)  # photo → the kept photo
    groups: list[list[str]] = field(default_factory=list)  # each group, kept photo first
    compared: int = 0  # candidate pairs examined beyond pHash
    refused_by_faces: int = 0  # of those, pairs the cheap face test told apart (faces_may_match)


def content_hash(rgb: np.ndarray) -> int | None:
    """pHash (64 bits) of the picture's content box: the rows and columns where it has texture
    (CONTENT_CONTRAST). On a uniform surround (ID photo, scan border, letterbox, sky) this hashes
    the subject, where the whole picture's pHash hashes mostly backdrop. None: almost no content."""
    import imagehash
    from PIL import Image

    grey = _grey(rgb)
    content = _local_contrast(grey) > CONTENT_CONTRAST
    if content.mean() < MIN_CONTENT:
        return None
    rows = np.flatnonzero(content.mean(axis=1) > 0.02)
    cols = np.flatnonzero(content.mean(axis=0) > 0.02)
    if len(rows) < 8 or len(cols) < 8:
        return None
    box = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return int(str(imagehash.phash(Image.fromarray(box.astype(np.uint8)))), 16)


def _grey(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _resize(grey: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    return resize(grey, shape, order=1, anti_aliasing=True, preserve_range=True)


def _shape(shape: tuple[int, ...], long_side: int) -> tuple[int, int]:
    factor = long_side / max(shape[:2])
    return max(8, round(shape[0] * factor)), max(8, round(shape[1] * factor))


# ---------------------------------------------------------------- geometry from faces


def _face_mapping(a: PhotoFaces, b: PhotoFaces, i: int, j: int) -> Mapping:
    """The scale and shift that put face j of B onto face i of A (least squares, 5 points)."""
    pa, pb = a.landmarks[i], b.landmarks[j]
    ca, cb = pa.mean(axis=0), pb.mean(axis=0)
    spread_b = float(((pb - cb) ** 2).sum())
    scale = float(((pa - ca) * (pb - cb)).sum()) / max(spread_b, 1e-9)
    return Mapping(scale, ca - scale * cb)


def _fits(a: PhotoFaces, b: PhotoFaces, i: int, j: int, mapping: Mapping) -> bool:
    """Face j of B, mapped, lies where face i of A is: centres within PLACE_TOLERANCE of the
    face's size (landmarks jitter between copies by a tenth of the eye distance, and more on a
    turned head, so the box is the steadier measure)."""
    box_a, box_b = a.boxes[i], b.boxes[j]
    centre_b = mapping.forward(box_b[:2] + box_b[2:] / 2)
    size = max(float(box_a[2]), float(box_a[3]), 1.0)
    return float(np.linalg.norm(centre_b - (box_a[:2] + box_a[2:] / 2))) <= PLACE_TOLERANCE * size


def mapping_from_faces(a: PhotoFaces, b: PhotoFaces) -> Mapping | None:
    """The geometry most same-person face pairs agree on, or None when no face of A is the same
    person as a face of B."""
    similarity = a.vectors @ b.vectors.T
    pairs = list(zip(*np.nonzero(similarity >= SAME_PERSON), strict=True))
    best, support = None, 0
    for i, j in pairs:
        mapping = _face_mapping(a, b, i, j)
        if not 0.1 <= mapping.scale <= 10.0:
            continue
        agreeing = sum(_fits(a, b, k, m, mapping) for k, m in pairs)
        if agreeing > support:
            best, support = mapping, agreeing
    return best


def _inside(boxes: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """Which boxes (x, y, w, h) lie wholly inside region (x0, y0, x1, y1), less EDGE_MARGIN."""
    x0, y0, x1, y1 = region
    mx, my = EDGE_MARGIN * (x1 - x0), EDGE_MARGIN * (y1 - y0)
    return (
        (boxes[:, 0] >= x0 + mx)
        & (boxes[:, 1] >= y0 + my)
        & (boxes[:, 0] + boxes[:, 2] <= x1 - mx)
        & (boxes[:, 1] + boxes[:, 3] <= y1 - my)
    )


def _unmatched(a: PhotoFaces, b: PhotoFaces, mapping: Mapping, shown: np.ndarray) -> bool:
    """A face of A that the shared part shows (`shown`) has no same-person face of B where the
    mapping puts it."""
    similarity = a.vectors @ b.vectors.T if len(a) and len(b) else np.zeros((len(a), len(b)))
    for i in np.flatnonzero(shown):
        if not any(
            similarity[i, j] >= SAME_PERSON and _fits(a, b, i, j, mapping) for j in range(len(b))
        ):
            return True
    return False


def faces_agree(
    a: PhotoFaces, b: PhotoFaces, mapping: Mapping, size_a: tuple[int, int], size_b: tuple[int, int]
) -> bool:
    """Every face either picture shows inside the part both show has its counterpart: the same
    person at the same place in the other."""
    region = shared_region(mapping, size_a, size_b)
    if region is None:
        return False
    inverse = mapping.inverse()
    region_b = (*inverse.forward(region[:2]), *inverse.forward(region[2:]))
    if _unmatched(a, b, mapping, _inside(a.boxes, region) & a.required()):
        return False
    return not _unmatched(b, a, inverse, _inside(b.boxes, region_b) & b.required())


def shared_region(
    mapping: Mapping,
    size_a: tuple[int, int],
    size_b: tuple[int, int],
    limit: float = MIN_SHARED_SIDE,
) -> tuple[float, float, float, float] | None:
    """The part both pictures show, in A's pixels (x0, y0, x1, y1), or None when it spans less
    than MIN_SHARED_SIDE of either picture's width or height."""
    (wa, ha), (wb, hb) = size_a, size_b
    bx0, by0 = mapping.forward((0.0, 0.0))
    bx1, by1 = mapping.forward((float(wb), float(hb)))
    x0, y0, x1, y1 = max(0.0, bx0), max(0.0, by0), min(float(wa), bx1), min(float(ha), by1)
    if x1 <= x0 or y1 <= y0:
        return None
    width, height = x1 - x0, y1 - y0
    if min(width / wa, height / ha) < limit:
        return None
    if min(width / (wb * mapping.scale), height / (hb * mapping.scale)) < limit:
        return None
    return x0, y0, x1, y1


# ---------------------------------------------------------------- geometry from pixels


def mapping_from_pixels(a_rgb: np.ndarray, b_rgb: np.ndarray) -> Mapping | None:
    found = _pixel_search(a_rgb, b_rgb)
    return found[1] if found and found[0] >= SEARCH_NCC else None


def _pixel_search(a_rgb: np.ndarray, b_rgb: np.ndarray) -> tuple[float, Mapping] | None:
    """B's thumbnail placed on A's (thumbnail pixels): the same picture scaled when the aspects
    agree, otherwise the smaller view's middle (CORE of each side) searched for inside the larger
    at widths MIN_CROP_FRACTION–1 of it (normalised cross-correlation at half size)."""
    from skimage.feature import match_template

    a, b = _grey(a_rgb), _grey(b_rgb)
    found = None
    for flip, (big, small) in enumerate(((a, b), (b, a))):
        cut = (round(small.shape[0] * (1 - CORE) / 2), round(small.shape[1] * (1 - CORE) / 2))
        core = small[cut[0] : small.shape[0] - cut[0], cut[1] : small.shape[1] - cut[1]]
        coarse = _resize(big, _shape(big.shape, COMPARE_SIDE // 2))
        ratio = big.shape[1] / coarse.shape[1]
        for fraction in CORE * np.linspace(MIN_CROP_FRACTION, 1.0 / MIN_CROP_FRACTION, 7):
            width = round(coarse.shape[1] * fraction)
            height = round(width * core.shape[0] / core.shape[1])
            if height > coarse.shape[0] or width > coarse.shape[1] or min(height, width) < 8:
                continue
            ncc = match_template(coarse, _resize(core, (height, width)))
            y, x = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
            if found is None or ncc[y, x] > found[0]:
                # core (small pixels) at (x, y) in coarse: small → big = scale · p + shift
                scale = width * ratio / core.shape[1]
                shift = np.array([x * ratio - cut[1] * scale, y * ratio - cut[0] * scale])
                found = (float(ncc[y, x]), flip, Mapping(scale, shift))
    if found is None:
        return None
    score, flip, mapping = found
    return score, mapping.inverse() if flip else mapping


def refine(a_rgb: np.ndarray, b_rgb: np.ndarray, mapping: Mapping) -> Mapping | None:
    """A thumbnail mapping (B → A) made exact to a pixel: landmarks put the scale within a few
    percent, the coarse search within a pixel of 64, and a few percent of scale misaligns a
    whole picture. The middle of the shared part, as B shows it, is searched for in A at scales
    within REFINE_SCALE of the estimate and shifts within a tenth of its size."""
    from skimage.feature import match_template

    a, b = _grey(a_rgb), _grey(b_rgb)
    fa, fb = min(1.0, REFINE_SIDE / max(a.shape)), min(1.0, REFINE_SIDE / max(b.shape))
    a, b = (
        _resize(a, _shape(a.shape, round(max(a.shape) * fa))),
        _resize(b, _shape(b.shape, round(max(b.shape) * fb))),
    )
    fa, fb = a.shape[1] / a_rgb.shape[1], b.shape[1] / b_rgb.shape[1]
    mapping = Mapping(mapping.scale * fa / fb, mapping.shift * fa)
    region = shared_region(mapping, a.shape[1::-1], b.shape[1::-1], limit=0.0)
    if region is None:
        return None
    x0, y0, x1, y1 = region
    mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
    inner = np.array([x0 + mx, y0 + my, x1 - mx, y1 - my])  # in A
    inverse = mapping.inverse()
    (bx0, by0), (bx1, by1) = inverse.forward(inner[:2]), inverse.forward(inner[2:])
    template = b[round(by0) : round(by1), round(bx0) : round(bx1)]
    if min(template.shape) < 8:
        return None
    left, top = max(0, round(inner[0] - mx)), max(0, round(inner[1] - my))
    window = a[
        top : min(a.shape[0], round(inner[3] + my)), left : min(a.shape[1], round(inner[2] + mx))
    ]
    tried: dict[float, tuple[float, Mapping] | None] = {}

    def at(factor: float) -> tuple[float, Mapping] | None:
        """The best shift of the template scaled by `factor` of the estimate, and its NCC."""
        factor = round(factor, 4)
        if factor not in tried:
            scale = mapping.scale * factor
            shape = (round(template.shape[0] * scale), round(template.shape[1] * scale))
            tried[factor] = None
            if min(shape) >= 8 and window.shape[0] >= shape[0] and window.shape[1] >= shape[1]:
                ncc = match_template(window, _resize(template, shape))
                y, x = np.unravel_index(int(np.argmax(ncc)), ncc.shape)
                # the template's top-left (round(bx0), round(by0)) in B lands at (left+x, top+y)
                shift = np.array([left + x - round(bx0) * scale, top + y - round(by0) * scale])
                tried[factor] = (float(ncc[y, x]), Mapping(float(scale), shift))
        return tried[factor]

    # Coarse to fine: every other step across the range, then the two steps beside the best.
    step = REFINE_SCALE / REFINE_STEPS
    coarse = np.linspace(1 - REFINE_SCALE, 1 + REFINE_SCALE, REFINE_STEPS + 1)
    found = [f for f in map(at, coarse) if f]
    if not found:
        return None
    best = max(found, key=lambda f: f[0])
    middle = best[1].scale / mapping.scale
    for factor in (middle - step, middle + step):
        candidate = at(factor)
        if candidate and candidate[0] > best[0]:
            best = candidate
    exact = best[1]  # back in the thumbnails' pixels
    return Mapping(exact.scale * fb / fa, exact.shift / fa)


# ---------------------------------------------------------------- content


def _local_contrast(grey: np.ndarray) -> np.ndarray:
    from scipy.ndimage import uniform_filter

    mean = uniform_filter(grey, 7)
    return np.sqrt(np.maximum(uniform_filter(grey * grey, 7) - mean * mean, 0.0))


def content_similarity(
    a_rgb: np.ndarray, b_rgb: np.ndarray, mapping: Mapping
) -> tuple[float, float]:
    """(SSIM over content pixels, content fraction) of the shared part of two thumbnails; the
    mapping is in thumbnail pixels (B → A). SSIM -1 when nothing is shared."""
    from skimage.metrics import structural_similarity

    a, b = _grey(a_rgb), _grey(b_rgb)
    region = shared_region(mapping, a.shape[1::-1], b.shape[1::-1])
    if region is None:
        return -1.0, 0.0
    x0, y0, x1, y1 = region
    inverse = mapping.inverse()
    (bx0, by0), (bx1, by1) = inverse.forward((x0, y0)), inverse.forward((x1, y1))
    view_a = a[round(y0) : max(round(y1), round(y0) + 1), round(x0) : max(round(x1), round(x0) + 1)]
    view_b = b[
        round(by0) : max(round(by1), round(by0) + 1), round(bx0) : max(round(bx1), round(bx0) + 1)
    ]
    shape = _shape(view_a.shape, COMPARE_SIDE)
    view_a, view_b = _resize(view_a, shape), _resize(view_b, shape)
    side = min(7, *shape)
    side -= 1 - side % 2  # an odd window
    _, ssim = structural_similarity(view_a, view_b, data_range=255.0, win_size=side, full=True)
    content = (_local_contrast(view_a) > CONTENT_CONTRAST) | (
        _local_contrast(view_b) > CONTENT_CONTRAST
    )
    fraction = float(content.mean())
    if fraction < MIN_CONTENT:
        return -1.0, fraction
    return float(ssim[content].mean()), fraction


def same_picture(
    a: PhotoFacts,
    b: PhotoFacts,
    thumb_a: np.ndarray,
    thumb_b: np.ndarray,
    faces_a: PhotoFaces | None = None,
    faces_b: PhotoFaces | None = None,
) -> bool:
    """Whether two candidate photos are the same picture (module docstring's checks 2 and 3):
    some alignment of the two, made exact by refine(), where both show the same faces and the
    same content. faces None: not known (the pixels alone decide)."""
    known = faces_a is not None and faces_b is not None
    fa, fb = thumb_a.shape[1] / a.width, thumb_b.shape[1] / b.width
    for guess in _guesses(a, b, thumb_a, thumb_b, faces_a, faces_b):
        if content_similarity(thumb_a, thumb_b, guess)[0] < ROUGH_SSIM:
            continue
        exact = refine(thumb_a, thumb_b, guess)
        if exact is None:
            continue
        mapping = Mapping(exact.scale * fb / fa, exact.shift / fa)  # original pixels
        size_a, size_b = (a.width, a.height), (b.width, b.height)
        if shared_region(mapping, size_a, size_b) is None:
            continue
        if known and not faces_agree(faces_a, faces_b, mapping, size_a, size_b):
            continue  # not here: the faces differ in count or identity where both pictures are
        if content_similarity(thumb_a, thumb_b, exact)[0] >= CONTENT_SSIM:
            return True
    return False


def _guesses(a, b, thumb_a, thumb_b, faces_a, faces_b) -> Iterator[Mapping]:
    """Rough thumbnail mappings (B → A) worth refining, best first: from the faces when both have
    some (and none at all when no face of one is anyone in the other), the same framing scaled,
    the pixel search's best."""
    fa, fb = thumb_a.shape[1] / a.width, thumb_b.shape[1] / b.width
    if faces_a is not None and faces_b is not None and len(faces_a) and len(faces_b):
        mapping = mapping_from_faces(faces_a, faces_b)
        if mapping is None:
            return
        # Landmarks put the scale within ~10% (small faces jitter): the pixels' guesses follow.
        yield Mapping(mapping.scale * fa / fb, mapping.shift * fa)
    if abs(a.height / a.width - b.height / b.width) < 0.01:
        yield Mapping(thumb_a.shape[1] / thumb_b.shape[1], np.zeros(2))
    searched = mapping_from_pixels(thumb_a, thumb_b)  # only when the first guess was not it
    if searched is not None:
        yield searched


# ---------------------------------------------------------------- the album


def faces_may_match(p: PhotoFacts, q: PhotoFacts, a: PhotoFaces, b: PhotoFaces) -> bool:
    """The cheap face test, before any pixel: both without faces, or a same-person face in each
    placing the two frames over each other about as a light crop would (FRAME_SLACK allows for
    the landmarks' few percent of scale). One with faces and one without: only a crop could do
    that, and a light crop never cuts every face away. Other shots of a person mostly frame the
    face elsewhere, and end here."""
    if not len(a) or not len(b):
        return not len(a) and not len(b)
    mapping = mapping_from_faces(a, b)
    if mapping is None:
        return False
    size_p, size_q = (p.width, p.height), (q.width, q.height)
    return shared_region(mapping, size_p, size_q, limit=MIN_SHARED_SIDE - FRAME_SLACK) is not None


class _Groups:
    """Union-find over photos that refuses a join putting a kept-apart pair in one group."""

    def __init__(self, ids: Iterable[str], kept_apart: Collection[frozenset[str]]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: {i} for i in self.parent}
        self.apart = [tuple(p) for p in kept_apart if len(p) == 2 and p <= self.parent.keys()]

    def root(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, x: str, y: str) -> bool:
        rx, ry = self.root(x), self.root(y)
        if rx == ry:
            return True
        joined = self.members[rx] | self.members[ry]
        if any(p in joined and q in joined for p, q in self.apart):
            return False
        self.parent[rx] = ry
        self.members[ry] = joined
        del self.members[rx]
        return True


def find_duplicates(
    photos: Sequence[PhotoFacts],
    thumbnail: Callable[[str], np.ndarray],
    *,
    faces: Callable[[str], PhotoFaces] | None = None,
    new: Iterable[str] | None = None,
    known_duplicate_of: dict[str, str] | None = None,
    kept_apart: Collection[frozenset[str]] = (),
) -> DedupeResult:
    """Groups of copies among `photos` and which one of each is kept.

    thumbnail(photo_id): its stored thumbnail (RGB or grey); faces(photo_id): its faces (None:
    faces unknown, pixels alone decide). Both are loaded only for candidates. new: the photos of
    this batch; pairs of two older photos were decided before and are not compared again (None:
    every pair). known_duplicate_of: those earlier decisions, kept. kept_apart: pairs a user
    said are different pictures, never joined.
    """
    by_id = {p.photo_id: p for p in photos}
    groups = _Groups(by_id, kept_apart)
    for dup, kept in (known_duplicate_of or {}).items():
        if dup in by_id and kept in by_id:
            groups.join(dup, kept)
    fresh = set(by_id) if new is None else set(new) & set(by_id)
    ordered = sorted(photos, key=lambda p: p.order)
    result = DedupeResult()
    _join_exact_copies(ordered, groups)
    _join_near_copies(ordered, fresh, groups, _Loaded(thumbnail, faces), result)
    _keep_one_of_each(ordered, groups, result)
    return result


class _Loaded:
    """Thumbnails (with their content hashes) and faces, each loaded once, only for candidates."""

    def __init__(
        self, thumbnail: Callable[[str], np.ndarray], faces: Callable[[str], PhotoFaces] | None
    ):
        self._thumbnail, self._faces = thumbnail, faces
        self._thumbs: dict[str, tuple[np.ndarray, int | None]] = {}
        self._known_faces: dict[str, PhotoFaces | None] = {}

    def thumb(self, photo_id: str) -> np.ndarray:
        if photo_id not in self._thumbs:
            pixels = self._thumbnail(photo_id)
            self._thumbs[photo_id] = (pixels, content_hash(pixels))
        return self._thumbs[photo_id][0]

    def contents_differ(self, p: str, q: str) -> bool:
        """The cheap bound on pixels: the content hashes (a uniform picture has none)."""
        self.thumb(p), self.thumb(q)
        hash_p, hash_q = self._thumbs[p][1], self._thumbs[q][1]
        return hash_p is None or hash_q is None or (hash_p ^ hash_q).bit_count() > CONTENT_HASH_BITS

    def faces_of(self, photo_id: str) -> PhotoFaces | None:
        if photo_id not in self._known_faces:
            self._known_faces[photo_id] = self._faces(photo_id) if self._faces else None
        return self._known_faces[photo_id]


def _join_exact_copies(ordered: Sequence[PhotoFacts], groups: _Groups) -> None:
    """Exact copies (the same SHA-256): no pixels needed."""
    first_by_sha: dict[str, str] = {}
    for p in ordered:
        if p.sha256 in first_by_sha:
            groups.join(p.photo_id, first_by_sha[p.sha256])
        else:
            first_by_sha[p.sha256] = p.photo_id


def _join_near_copies(
    ordered: Sequence[PhotoFacts],
    fresh: set[str],
    groups: _Groups,
    loaded: _Loaded,
    result: DedupeResult,
) -> None:
    """pHash candidates (a new photo in each pair), refused by their faces or their content
    hashes, confirmed by same_picture."""
    hashes = np.array([int(p.phash, 16) for p in ordered], dtype=np.uint64)
    for i, p in enumerate(ordered):
        distance = np.bitwise_count(hashes[:i] ^ hashes[i])
        for j in np.flatnonzero(distance <= PHASH_CANDIDATE_BITS):
            q = ordered[int(j)]
            if p.photo_id not in fresh and q.photo_id not in fresh:
                continue
            if groups.root(p.photo_id) == groups.root(q.photo_id):
                continue
            if _same(p, q, loaded, result):
                groups.join(p.photo_id, q.photo_id)


def _same(p: PhotoFacts, q: PhotoFacts, loaded: _Loaded, result: DedupeResult) -> bool:
    """One candidate pair compared: their faces first, then the content, then the pixels."""
    result.compared += 1
    fp, fq = loaded.faces_of(p.photo_id), loaded.faces_of(q.photo_id)
    if fp is not None and fq is not None and not faces_may_match(p, q, fp, fq):
        result.refused_by_faces += 1
        return False
    if loaded.contents_differ(p.photo_id, q.photo_id):
        return False
    return same_picture(q, p, loaded.thumb(q.photo_id), loaded.thumb(p.photo_id), fq, fp)


def _keep_one_of_each(ordered: Sequence[PhotoFacts], groups: _Groups, result: DedupeResult) -> None:
    """Each group's kept copy: the most pixels, then the most faces, then the first uploaded."""
    members: dict[str, list[PhotoFacts]] = {}
    for p in ordered:
        members.setdefault(groups.root(p.photo_id), []).append(p)
    for group in members.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda p: (-p.pixels, -p.face_count, p.order))
        kept = group[0].photo_id
        result.groups.append([p.photo_id for p in group])
        for p in group[1:]:
            result.duplicate_of[p.photo_id] = kept


def kept_apart(photos: Iterable[dict[str, Any]]) -> set[frozenset[str]]:
    """Every pair a user said is not a duplicate, from the album's PHOTO# items
    (`notDuplicateOf`, faceflow.edge.duplicates)."""
    return {
        frozenset((p["photoId"], other))
        for p in photos
        for other in p.get("notDuplicateOf", ())
        if other != p["photoId"]
    }
