"""Faces → people, per album, on cosine similarity of L2-normalised embeddings.

- `batch_labels(vectors, algorithm)`: one of the measured batch algorithms (ALGORITHMS), or the
  published rules of Immich, PhotoPrism and LibrePhotos (ANCHORS) applied to the same vectors.
  Noise becomes singletons: every face gets a cluster.
- `constrained_clusters(...)`: the album's clustering — the chosen algorithm on good faces only
  (low-quality faces never seed a cluster), then must-links joined, cannot-links (faces of one
  photo, "not this person") split apart, then low-quality and unplaced faces assigned to the
  nearest cluster above ASSIGN_THRESHOLD or left as singletons.
- `CentroidIndex`: FAISS nearest-centroid assignment for faces arriving later (immediate).

numpy, scikit-learn, faiss-cpu. No I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Chosen by measured BCubed F on the registry faces (benchmarks/bench_clustering.py): SFace's
# same-person similarities there are 0.60–0.91 and different people ≤ 0.41; agglomerative
# (average linkage) cut at cosine distance 0.50 sits in that gap (BCubed F 1.0 from 0.50 to 0.55,
# 0.99 at 0.60). DBSCAN at the same distance ties on these few faces but chains through
# single links on large albums; HDBSCAN (min cluster 2) merges singletons (F 0.66).
# knn-average is that average linkage in O(n·k) (a FAISS k-NN graph, its components clustered
# apart): the same partition where the k-NN graph holds every pair under the cut (measured: the
# same BCubed F on the registry faces, the same partition on 3,000 synthetic faces).
DEFAULT_ALGORITHM = "knn-average"
MERGE_DISTANCE = 0.50
# A later face joins the nearest cluster centroid at this cosine similarity or more (the same
# cut: a centroid sits at least as close to its person's faces as they sit to each other).
ASSIGN_THRESHOLD = 0.50


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError("vectors must be (n, dim)")
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _singletons_for_noise(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels).copy()
    next_label = labels.max(initial=-1) + 1
    for i in np.flatnonzero(labels < 0):
        labels[i] = next_label
        next_label += 1
    return labels


def agglomerative(x: np.ndarray, distance: float = MERGE_DISTANCE) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(x) < 2:
        return np.zeros(len(x), dtype=int)
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
    )
    return model.fit_predict(x)


def hdbscan(
    x: np.ndarray, min_cluster_size: int = 2, min_samples: int = 1, epsilon: float = 0.0
) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    if len(x) < max(2, min_cluster_size):
        return np.arange(len(x))
    model = HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        cluster_selection_epsilon=epsilon,
        metric="euclidean",  # on unit vectors: monotone in cosine distance
        copy=True,
    )
    return _singletons_for_noise(model.fit_predict(x))


def dbscan(x: np.ndarray, eps: float, min_samples: int, metric: str = "cosine") -> np.ndarray:
    from sklearn.cluster import DBSCAN

    if len(x) == 0:
        return np.zeros(0, dtype=int)
    return _singletons_for_noise(
        DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit_predict(x)
    )


KNN_NEIGHBOURS = 30
EXACT_KNN_UP_TO = 20_000  # brute-force k-NN below this many faces; FAISS HNSW above
DENSE_COMPONENT_UP_TO = 4_000  # a component this large or smaller: the exact average linkage


def _knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each face's k nearest faces (cosine similarity, itself included) by FAISS."""
    import faiss

    n, dim = x.shape
    if n <= EXACT_KNN_UP_TO:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 2 * k
    index.add(x)
    return index.search(x, min(k, n))


def knn_average(
    x: np.ndarray, distance: float = MERGE_DISTANCE, k: int = KNN_NEIGHBOURS
) -> np.ndarray:
    """Average linkage cut at `distance`, in O(n·k): a k-NN graph keeps the pairs closer than
    the cut (average linkage never joins groups without one such pair), its connected
    components are clustered apart (exactly, by the dense algorithm, when small; with the graph
    as the connectivity when large), and every face alone in its component is its own person."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(x)
    if n < 2:
        return np.zeros(n, dtype=int)
    sims, rows = _knn(np.ascontiguousarray(x, np.float32), k)
    near = (rows >= 0) & (sims >= 1.0 - distance)
    src = np.repeat(np.arange(n), rows.shape[1])[near.ravel()]
    dst = rows.ravel()[near.ravel()]
    graph = coo_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n)).tocsr()
    graph = graph.maximum(graph.T)
    count, component = connected_components(graph, directed=False)
    labels = np.full(n, -1)
    next_label = 0
    for c in range(count):
        members = np.flatnonzero(component == c)
        if len(members) == 1:
            sub = np.zeros(1, dtype=int)
        elif len(members) <= DENSE_COMPONENT_UP_TO:
            sub = agglomerative(x[members], distance)
        else:
            sub = _connected_average(x[members], graph[members][:, members], distance)
        labels[members] = sub + next_label
        next_label += int(sub.max()) + 1
    return labels


def _connected_average(x: np.ndarray, graph, distance: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=distance,
        connectivity=graph,
    )
    return model.fit_predict(x)


ALGORITHMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "agglomerative": agglomerative,
    "knn-average": knn_average,
    "hdbscan": lambda x: hdbscan(x, min_cluster_size=2, min_samples=1),
    "dbscan": lambda x: dbscan(x, eps=MERGE_DISTANCE, min_samples=2),
}
# The published rules, as those projects configure them (their defaults, on our vectors).
ANCHORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "immich": lambda x: dbscan(x, eps=0.5, min_samples=3, metric="cosine"),
    "photoprism": lambda x: dbscan(x, eps=0.64, min_samples=4, metric="euclidean"),
    "librephotos": lambda x: hdbscan(x, min_cluster_size=2, min_samples=1, epsilon=0.05),
}


def batch_labels(vectors: np.ndarray, algorithm: str = DEFAULT_ALGORITHM) -> np.ndarray:
    """A cluster label per face (noise as singletons) by `algorithm` (ALGORITHMS or ANCHORS)."""
    rule = ALGORITHMS.get(algorithm) or ANCHORS.get(algorithm)
    if rule is None:
        raise KeyError(f"unknown algorithm {algorithm!r}")
    return np.asarray(rule(normalised(vectors)), dtype=int)


@dataclass(frozen=True)
class Constraints:
    """What clustering must respect beyond the vectors.

    photo_of: face index → photo (faces of one photo are never one person);
    together: groups of face indexes that must share a cluster (merges);
    apart: pairs of face-index groups whose members never share a cluster (splits)."""

    photo_of: Sequence[str]
    together: Sequence[frozenset[int]] = ()
    apart: Sequence[tuple[frozenset[int], frozenset[int]]] = ()


class _Conflicts:
    def __init__(self, constraints: Constraints) -> None:
        self.photo_of = constraints.photo_of
        self.apart_of: dict[int, set[int]] = {}
        for left, right in constraints.apart:
            for i in left:
                self.apart_of.setdefault(i, set()).update(right)
            for j in right:
                self.apart_of.setdefault(j, set()).update(left)

    def clash(self, members: Iterable[int], unit: Iterable[int]) -> bool:
        members = set(members)
        photos = {self.photo_of[m] for m in members}
        for i in unit:
            if self.photo_of[i] in photos or self.apart_of.get(i, set()) & members:
                return True
        return False


def _components(n: int, together: Sequence[frozenset[int]]) -> list[list[int]]:
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in together:
        members = sorted(group)
        for other in members[1:]:
            parent[root(other)] = root(members[0])
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(root(i), []).append(i)
    return list(out.values())


def constrained_clusters(
    vectors: np.ndarray,
    low_quality: Sequence[bool],
    constraints: Constraints,
    *,
    algorithm: str = DEFAULT_ALGORITHM,
    assign_threshold: float = ASSIGN_THRESHOLD,
) -> list[list[int]]:
    """Clusters (lists of face indexes, every face in exactly one) honouring the constraints."""
    x = normalised(vectors)
    n = len(x)
    if n == 0:
        return []
    conflicts = _Conflicts(constraints)
    base = _batch_clusters(x, low_quality, algorithm)
    units = [u for u in _components(n, constraints.together)]
    _join_must_links(base, units, conflicts)
    unit_of = {i: tuple(u) for u in units for i in u}
    clusters: list[list[int]] = []
    for members in base.values():
        if members:
            clusters.extend(_split_conflicts(x, members, unit_of, conflicts))
    _place_the_rest(x, low_quality, clusters, units, conflicts, assign_threshold)
    return clusters


def _batch_clusters(
    x: np.ndarray, low_quality: Sequence[bool], algorithm: str
) -> dict[int, list[int]]:
    """The batch algorithm over the good faces: cluster label → face indexes."""
    good = [i for i in range(len(x)) if not low_quality[i]]
    base: dict[int, list[int]] = {}
    if good:
        for i, label in zip(good, batch_labels(x[good], algorithm), strict=True):
            base.setdefault(int(label), []).append(i)
    return base


def _join_must_links(
    base: dict[int, list[int]], units: list[list[int]], conflicts: _Conflicts
) -> None:
    """Must-links: a merge says the clusters are one person: join what the algorithm holds of
    them, unless that would put a forbidden pair together (then only the linked faces move)."""
    cluster_of = {i: c for c, members in base.items() for i in members}
    for unit in units:
        if len(unit) < 2:
            continue
        touched = sorted({cluster_of[i] for i in unit if i in cluster_of})
        joined = sorted({m for c in touched for m in base[c]} | set(unit))
        rest = [i for i in joined if i not in unit]
        if touched and not conflicts.clash(rest, unit) and _no_internal_clash(conflicts, rest):
            target = touched[0]
            for c in touched[1:]:
                base.pop(c)
        else:
            target = max(base, default=-1) + 1
            for c in touched:
                base[c] = [m for m in base[c] if m not in unit]
        base[target] = sorted(set(base.get(target, [])) | set(joined if touched else unit))
        for i in base[target]:
            cluster_of[i] = target


def _place_the_rest(
    x: np.ndarray,
    low_quality: Sequence[bool],
    clusters: list[list[int]],
    units: list[list[int]],
    conflicts: _Conflicts,
    assign_threshold: float,
) -> None:
    """Low-quality faces and anything not yet placed: nearest cluster centroid, or alone."""
    placed = {i for c in clusters for i in c}
    for unit in units:
        unit = [i for i in unit if i not in placed]
        if not unit:
            continue
        best = _nearest_cluster(x, low_quality, clusters, unit, conflicts, assign_threshold)
        if best is None:
            clusters.append(sorted(unit))
        else:
            clusters[best] = sorted(clusters[best] + unit)
        placed.update(unit)


def _nearest_cluster(
    x: np.ndarray,
    low_quality: Sequence[bool],
    clusters: list[list[int]],
    unit: list[int],
    conflicts: _Conflicts,
    assign_threshold: float,
) -> int | None:
    """The cluster whose centroid is nearest the unit's mean (at least `assign_threshold`) and
    which it may join; None for none."""
    best, best_sim = None, assign_threshold
    mean = x[unit].mean(axis=0)
    for k, members in enumerate(clusters):
        if all(low_quality[m] for m in members):
            continue  # a low-quality face never seeds: nothing joins a cluster of only those
        centroid = x[members].mean(axis=0)
        sim = float(mean @ centroid / max(np.linalg.norm(centroid) * np.linalg.norm(mean), 1e-12))
        if sim >= best_sim and not conflicts.clash(members, unit):
            best, best_sim = k, sim
    return best


def _no_internal_clash(conflicts: _Conflicts, members: list[int]) -> bool:
    seen: list[int] = []
    for m in members:
        if conflicts.clash(seen, [m]):
            return False
        seen.append(m)
    return True


def _split_conflicts(
    x: np.ndarray, members: list[int], unit_of: dict[int, tuple[int, ...]], conflicts: _Conflicts
) -> list[list[int]]:
    """A cluster holding a forbidden pair becomes several: must-linked units first, then faces
    nearest the centroid, each into the first part it does not clash with."""
    if _no_internal_clash(conflicts, members):
        return [sorted(members)]
    centroid = x[members].mean(axis=0)
    units = {unit_of.get(m, (m,)) for m in members}
    ordered = sorted(units, key=lambda u: (-len(u), -float(x[list(u)].mean(axis=0) @ centroid)))
    parts: list[list[int]] = []
    for unit in ordered:
        unit = [i for i in unit if i in set(members)]
        for part in parts:
            if not conflicts.clash(part, unit):
                part.extend(unit)
                break
        else:
            parts.append(list(unit))
    return [sorted(p) for p in parts]


class CentroidIndex:
    """Cluster centroids in a FAISS inner-product index: a new face's nearest clusters in one
    search. Centroids are kept as sums (adding a face is exact); the index holds them
    normalised, and a changed centroid is rewritten in place (IndexFlat's storage), so an
    assignment costs one search plus one row, never a rebuild."""

    def __init__(self, dim: int) -> None:
        import faiss

        # One query at a time gains nothing from OpenMP threads, and their spin-waits cost a
        # p99 of 138 ms against 12 ms single-threaded on a busy 2-core machine (measured).
        faiss.omp_set_num_threads(1)
        self.dim = dim
        self.ids: list[str] = []
        self._row: dict[str, int] = {}
        self._sums = np.zeros((0, dim), np.float32)
        self._index = faiss.IndexFlatIP(dim)

    @classmethod
    def of(cls, cluster_ids: Sequence[str], vectors: np.ndarray) -> CentroidIndex:
        """The index of clusters given face by face: cluster_ids[i] holds vectors[i]."""
        if not len(vectors):
            raise ValueError("CentroidIndex.of needs at least one vector")
        vectors = normalised(vectors)
        order = list(dict.fromkeys(cluster_ids))
        row = {c: i for i, c in enumerate(order)}
        sums = np.zeros((len(order), vectors.shape[1]), np.float32)
        np.add.at(sums, np.array([row[c] for c in cluster_ids]), vectors)
        return cls.of_sums(order, sums)

    @classmethod
    def of_sums(cls, cluster_ids: Sequence[str], sums: np.ndarray) -> CentroidIndex:
        """The index of clusters given by their vectors' sums (a store's cluster records)."""
        sums = np.asarray(sums, np.float32)
        index = cls(sums.shape[1])
        index.ids = list(cluster_ids)
        index._row = {c: i for i, c in enumerate(index.ids)}
        index._sums = sums.copy()
        if len(sums):
            index._index.add(normalised(sums))
        return index

    def _write(self, row: int) -> None:
        import faiss

        stored = faiss.rev_swig_ptr(self._index.get_xb(), self._index.ntotal * self.dim)
        stored = stored.reshape(self._index.ntotal, self.dim)
        stored[row] = normalised(self._sums[row : row + 1])[0]

    def add_to(self, cluster_id: str, vector: np.ndarray) -> None:
        """One more face in a cluster (a new cluster if unknown): its centroid moves."""
        vector = np.asarray(vector, np.float32).reshape(self.dim)
        if cluster_id not in self._row:
            n = len(self.ids)
            if n == len(self._sums):  # grown by doubling: adding n clusters costs O(n)
                grown = np.zeros((max(16, 2 * n), self.dim), np.float32)
                grown[:n] = self._sums[:n]
                self._sums = grown
            self._row[cluster_id] = n
            self.ids.append(cluster_id)
            self._sums[n] = vector
            self._index.add(normalised(vector[None]))
            return
        row = self._row[cluster_id]
        self._sums[row] += vector
        self._write(row)

    def set(self, cluster_id: str, vector_sum: np.ndarray) -> None:
        if cluster_id not in self._row:
            self.add_to(cluster_id, vector_sum)
            return
        row = self._row[cluster_id]
        self._sums[row] = np.asarray(vector_sum, np.float32).reshape(self.dim)
        self._write(row)

    def nearest(self, vector: np.ndarray, k: int = 8) -> list[tuple[str, float]]:
        """Up to k (cluster id, cosine similarity) pairs, most similar first."""
        if not self.ids:
            return []
        query = normalised(np.asarray(vector, np.float32).reshape(1, -1))
        sims, rows = self._index.search(query, min(k, len(self.ids)))
        return [(self.ids[r], float(s)) for s, r in zip(sims[0], rows[0], strict=True) if r >= 0]
