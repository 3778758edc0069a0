"""Dense face geometry: MediaPipe Face Mesh (Apache-2.0), 468 3-D landmarks of one face, its
triangles and its head pose.

The landmark network (`face_landmark.tflite`) and the mesh's topology (`face_mesh_connections.py`)
are taken from the mediapipe 0.10.21 wheel at set-up (scripts/fetch_photos.py, checksum-pinned)
into FACE_MODELS_DIR; mediapipe itself is not a dependency. OpenCV's TFLite importer runs the
network, and the region it sees comes from a YuNet detection (facekit.yunet), refined once from
the first pass's own landmarks as MediaPipe's tracking does. On the registry portraits this lands
within 1.3–3.5 % of the eye distance of mediapipe's own FaceMesh (mean per point), ~6 ms a face.

Coordinates: x, y in image pixels; z in pixels too (the network's depth, scaled like x), smaller
is nearer the camera, relative to the face's centre.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from facekit.models import Model

if TYPE_CHECKING:
    import cv2

LANDMARK_MODEL = "face_landmark.tflite"
TOPOLOGY_FILE = "face_mesh_connections.py"
POINTS = 468
INPUT_SIZE = 192
# MediaPipe's region: the face's box, squared on its long side and enlarged 1.5×, turned so the
# eyes are level.
ROI_SCALE = 1.5
# The network's face-presence logit: real faces score 17–33 on the registry photos, a flat grey
# picture cropped where a face would be -5.
MIN_PRESENCE = 0.0
# Mesh points used for the region's rotation (outer eye corners: the image's left, then right).
EYE_OUTER = (33, 263)
# Landmarks that stand for the 5 YuNet points: eye centres (mean of each eye's corners), the nose
# tip and the mouth corners.
LEFT_EYE_CORNERS = (33, 133)
RIGHT_EYE_CORNERS = (362, 263)
NOSE_TIP = 1
# The holes the tessellation leaves, closed so that a warp carries the eyes and the mouth too:
# each eye's opening and the mouth's (the lips' inner contour), with the corners that split each.
HOLES = ("FACEMESH_LEFT_EYE", "FACEMESH_RIGHT_EYE", "FACEMESH_LIPS")
MOUTH_OPENING = frozenset(
    {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415}
)
HOLE_CORNERS = frozenset({33, 133, 362, 263, 78, 308})
MOUTH_CORNERS = (61, 291)


class NoMesh(ValueError):
    """The network found no face in the region it was given."""


@dataclass(frozen=True)
class FaceMesh:
    points: np.ndarray  # (468, 3) float64: x, y, z in image pixels
    presence: float  # face-presence logit

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    @property
    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """The eye on the left of the image, then the other (mean of each eye's two corners)."""
        return (
            self.xy[list(LEFT_EYE_CORNERS)].mean(axis=0),
            self.xy[list(RIGHT_EYE_CORNERS)].mean(axis=0),
        )

    @property
    def eye_distance(self) -> float:
        left, right = self.eye_centres
        return float(np.linalg.norm(right - left))

    @property
    def five_points(self) -> np.ndarray:
        """(5, 2) in YuNet's order: the two eye centres, nose tip, the two mouth corners."""
        left, right = self.eye_centres
        return np.stack([left, right, self.xy[NOSE_TIP], *self.xy[list(MOUTH_CORNERS)]])


Edges = dict[str, list[tuple[int, int]]]  # an edge set's name → its (point, point) pairs


@dataclass(frozen=True)
class Topology:
    """The mesh's edge sets and what is derived from them once: see the functions below."""

    edges: Edges
    triangles: np.ndarray
    expression_regions: list[np.ndarray]
    feature_points: np.ndarray
    brows: tuple[np.ndarray, np.ndarray]
    face_oval: np.ndarray


class MeshTopology(Model[Topology]):
    """MediaPipe's topology file, read as data (literal_eval; the file never runs)."""

    files = (TOPOLOGY_FILE,)

    def _load(self) -> Topology:
        (path,) = self.paths()
        edges = _edge_sets(path.read_text())
        return Topology(
            edges=edges,
            triangles=_triangles(edges),
            expression_regions=_expression_regions(edges),
            feature_points=_feature_points(edges),
            brows=_brows(edges),
            face_oval=_face_oval(edges),
        )


class LandmarkNetwork(Model["cv2.dnn.Net"]):
    """The 468-point landmark network, run by OpenCV's TFLite importer."""

    files = (LANDMARK_MODEL,)

    def __init__(self) -> None:
        super().__init__()
        self._forward_lock = threading.Lock()  # one network object: one forward pass at a time

    def _load(self) -> cv2.dnn.Net:
        import cv2

        (path,) = self.paths()
        return cv2.dnn.readNetFromTFLite(str(path))

    def outputs(self, blob: np.ndarray) -> tuple[np.ndarray, ...]:
        """Every output of the network for a (1, 3, 192, 192) RGB 0–1 blob."""
        net = self.get()
        with self._forward_lock:
            net.setInput(blob)
            return net.forward(net.getUnconnectedOutLayersNames())


TOPOLOGY = MeshTopology()
LANDMARK_NETWORK = LandmarkNetwork()


def warm_up() -> None:
    LANDMARK_NETWORK.get()
    TOPOLOGY.get()


def triangles() -> np.ndarray:
    """(n, 3) int: the mesh's triangles (every three points joined pairwise by its edges), all
    wound the same way round (neighbours cross their shared edge in opposite directions), so
    that a triangle's winding in an image says whether it faces the camera."""
    return TOPOLOGY.get().triangles


def expression_regions() -> list[np.ndarray]:
    """Mesh points that carry expression: each eye's contour (open, shut) and the lips."""
    return TOPOLOGY.get().expression_regions


def feature_points() -> np.ndarray:
    """Eyes, brows, lips and nose: what makes a face someone's (never masked out as not-skin)."""
    return TOPOLOGY.get().feature_points


def brows() -> tuple[np.ndarray, np.ndarray]:
    """Each eyebrow's mesh points (the image's left one first, on an upright face)."""
    return TOPOLOGY.get().brows


def brow_points() -> np.ndarray:
    """Both eyebrows' mesh points."""
    return np.concatenate(brows())


def face_oval() -> np.ndarray:
    """The mesh points of the face's outline, in order around it."""
    return TOPOLOGY.get().face_oval


def _edge_sets(source: str) -> Edges:
    """The edge sets the topology module lists literally (`NAME = frozenset([...])`), sorted
    (its unions of them are left out)."""
    out = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and node.value.args
            and isinstance(node.value.args[0], ast.List)
        ):
            out[node.targets[0].id] = sorted(ast.literal_eval(node.value.args[0]))
    return out


def _triangles(edges: Edges) -> np.ndarray:
    tessellation = edges["FACEMESH_TESSELATION"]
    neighbours: dict[int, set[int]] = {}
    for a, b in tessellation:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triples = {
        tuple(sorted((a, b, c))) for a, b in tessellation for c in neighbours[a] & neighbours[b]
    }

    def sides(t: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        return ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))

    uses: dict[tuple[int, int], int] = {}
    for t in triples:
        for edge in sides(t):
            uses[edge] = uses.get(edge, 0) + 1
    # Three points joined pairwise around a point of three neighbours are no face of the mesh:
    # such a triple shares each side with two real triangles.
    found = sorted(t for t in triples if not all(uses[e] == 3 for e in sides(t)))
    found += [t for ring in HOLES for t in _strip(_ring(edges, ring))]
    by_edge: dict[tuple[int, int], list[int]] = {}
    for index, t in enumerate(found):
        for edge in sides(t):
            by_edge.setdefault(edge, []).append(index)
    oriented: dict[int, tuple[int, int, int]] = {}
    for seed in range(len(found)):
        if seed in oriented:
            continue
        oriented[seed] = found[seed]
        queue = [seed]
        while queue:
            current = oriented[queue.pop()]
            for i in range(3):
                a, b = current[i], current[(i + 1) % 3]
                for other in by_edge[tuple(sorted((a, b)))]:
                    if other in oriented:
                        continue
                    (c,) = set(found[other]) - {a, b}
                    oriented[other] = (b, a, c)  # the shared edge the other way round
                    queue.append(other)
    return np.array([oriented[i] for i in range(len(found))], dtype=np.int32)


def _ring(edges: Edges, name: str) -> list[int]:
    """The points of a closed contour (an edge set of the topology), in order around it."""
    contour = edges[name]
    points = {p for e in contour for p in e}
    if name == "FACEMESH_LIPS":  # the lips' inner contour: the mouth's opening
        contour = [e for e in contour if set(e) <= MOUTH_OPENING]
        points = MOUTH_OPENING
    joined: dict[int, list[int]] = {p: [] for p in points}
    for a, b in contour:
        joined[a].append(b)
        joined[b].append(a)
    start = min(points)
    ring, previous = [start], None
    while True:
        step = next(p for p in joined[ring[-1]] if p != previous)
        if step == start:
            return ring
        previous = ring[-1]
        ring.append(step)


def _strip(ring: list[int]) -> list[tuple[int, int, int]]:
    """Triangles closing a hole: its contour split at its two farthest-apart corners (by the
    mesh's index order, the eye's or mouth's corners) into two chains, joined as a strip."""
    corners = [i for i, p in enumerate(ring) if p in HOLE_CORNERS]
    a, b = corners
    upper = ring[a : b + 1]
    lower = (ring[b:] + ring[: a + 1])[::-1]
    out = []
    for i in range(max(len(upper), len(lower)) - 1):
        u0, u1 = upper[min(i, len(upper) - 1)], upper[min(i + 1, len(upper) - 1)]
        l0, l1 = lower[min(i, len(lower) - 1)], lower[min(i + 1, len(lower) - 1)]
        for t in ((u0, u1, l1), (u0, l1, l0)):
            if len(set(t)) == 3:
                out.append(tuple(sorted(t)))
    return out


def _points_of(edges: Edges, names: tuple[str, ...]) -> np.ndarray:
    """The points the named edge sets join, sorted."""
    return np.array(sorted({p for n in names for e in edges[n] for p in e}), dtype=np.int32)


def _expression_regions(edges: Edges) -> list[np.ndarray]:
    return [_points_of(edges, (name,)) for name in HOLES]


def _feature_points(edges: Edges) -> np.ndarray:
    names = (
        "FACEMESH_LEFT_EYE",
        "FACEMESH_RIGHT_EYE",
        "FACEMESH_LEFT_EYEBROW",
        "FACEMESH_RIGHT_EYEBROW",
        "FACEMESH_LIPS",
        "FACEMESH_NOSE",
    )
    return _points_of(edges, names)


def _brows(edges: Edges) -> tuple[np.ndarray, np.ndarray]:
    names = ("FACEMESH_RIGHT_EYEBROW", "FACEMESH_LEFT_EYEBROW")  # MediaPipe's: the person's
    left_of_image, right_of_image = (_points_of(edges, (n,)) for n in names)
    return left_of_image, right_of_image


def _face_oval(edges: Edges) -> np.ndarray:
    following = dict(edges["FACEMESH_FACE_OVAL"])
    start = min(following)
    ring = [start]
    while following[ring[-1]] != start:
        ring.append(following[ring[-1]])
    return np.array(ring, dtype=np.int32)


def _region(centre: np.ndarray, width: float, angle: float) -> np.ndarray:
    """2×3 matrix from the INPUT_SIZE² crop to the image: a square `width` wide, turned by
    `angle` (radians, image axes) about `centre`."""
    c, s = np.cos(angle), np.sin(angle)
    k = width / INPUT_SIZE
    linear = np.array([[c * k, -s * k], [s * k, c * k]])
    shift = np.asarray(centre, np.float64) - linear @ np.array([INPUT_SIZE / 2, INPUT_SIZE / 2])
    return np.hstack([linear, shift[:, None]])


def _run(rgb: np.ndarray, to_image: np.ndarray) -> FaceMesh:
    import cv2

    to_crop = cv2.invertAffineTransform(to_image)
    crop = cv2.warpAffine(
        np.ascontiguousarray(rgb),
        to_crop,
        (INPUT_SIZE, INPUT_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    blob = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
    outputs = LANDMARK_NETWORK.outputs(blob)
    landmarks = next(o for o in outputs if o.size == POINTS * 3)
    presence = next(o for o in outputs if o.size == 1)
    raw = landmarks.reshape(POINTS, 3).astype(np.float64)
    xy = raw[:, :2] @ to_image[:, :2].T + to_image[:, 2]
    scale = float(np.sqrt(abs(np.linalg.det(to_image[:, :2]))))
    z = (raw[:, 2] - raw[:, 2].mean()) * scale
    return FaceMesh(points=np.column_stack([xy, z]), presence=float(presence.ravel()[0]))


def _region_of(points: np.ndarray, centre: np.ndarray, left_eye, right_eye) -> np.ndarray:
    d = np.asarray(right_eye) - np.asarray(left_eye)
    angle = float(np.arctan2(d[1], d[0]))
    # The box of the points in the turned frame, squared on its long side.
    c, s = np.cos(angle), np.sin(angle)
    local = (points - centre) @ np.array([[c, -s], [s, c]])
    lo, hi = local.min(axis=0), local.max(axis=0)
    middle = centre + np.array([[c, -s], [s, c]]) @ ((lo + hi) / 2)
    return _region(middle, float((hi - lo).max()) * ROI_SCALE, angle)


def face_mesh(rgb: np.ndarray, landmarks5: np.ndarray, box: tuple[float, ...]) -> FaceMesh:
    """The mesh of the face YuNet found with these 5 landmarks and box (x, y, w, h); NoMesh when
    the network sees no face there."""
    x, y, w, h = box
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64)
    first = _run(rgb, _region_of(corners, np.array([x + w / 2, y + h / 2]), *landmarks5[:2]))
    # Second pass on the region the first pass's landmarks span, as MediaPipe tracks a face.
    xy = first.xy
    region = _region_of(xy, xy.mean(axis=0), xy[EYE_OUTER[0]], xy[EYE_OUTER[1]])
    mesh = _run(rgb, region)
    if mesh.presence < MIN_PRESENCE:
        raise NoMesh(f"no face in the region (presence {mesh.presence:.1f})")
    return mesh


def head_rotation(reference: FaceMesh, other: FaceMesh) -> np.ndarray:
    """3×3 rotation taking `reference`'s centred, scale-normalised 3-D points best onto
    `other`'s (Kabsch): how much the head of `other` is turned relative to `reference`."""
    a = reference.points - reference.points.mean(axis=0)
    b = other.points - other.points.mean(axis=0)
    a /= np.linalg.norm(a)
    b /= np.linalg.norm(b)
    u, _, vt = np.linalg.svd(b.T @ a)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    return u @ fix @ vt


def yaw_pitch_roll(rotation: np.ndarray) -> tuple[float, float, float]:
    """Degrees about the image's vertical (yaw), horizontal (pitch) and viewing (roll) axes."""
    r = rotation
    yaw = np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
    roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
    return float(yaw), float(pitch), float(roll)
