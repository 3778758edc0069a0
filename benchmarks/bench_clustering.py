"""FaceFlow clustering: quality on every real labelled face, and speed at scale.

    .venv/bin/python benchmarks/bench_clustering.py [--sizes 1000,10000,100000]

Quality: the faces YuNet finds in the registry photos (tests/faceflow_photos.py: 41 real faces;
only Obama (6 photos, 2 of them heavy crops of one), Macron (2) and Ardern (2) have several
photos — every other face is a person seen once), embedded by SFace. BCubed and pairwise F of
each batch algorithm (faceflow.domain.clustering.ALGORITHMS), the published anchors on the same
vectors (Immich, PhotoPrism, LibrePhotos), FaceFlow's album model (constraints, low quality)
in one batch, and the same photos arriving in three uploads (immediate FAISS assignment only,
then after a re-cluster).

Speed: synthetic identities (unit-vector centres, faces at cosine ~0.7 to their centre),
batch clustering time per size (agglomerative holds an n² distance matrix: sizes beyond
--max-agglomerative are skipped and said so), FaceFlow's incremental assignment per face
(p50/p99) into an album of that size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

import numpy as np  # noqa: E402

from faceflow.domain import clustering, metrics  # noqa: E402
from faceflow.domain.people import AlbumPeople, FaceEntry  # noqa: E402
from tests import faceflow_photos  # noqa: E402


def _row(name: str, clusters, labels) -> None:
    b, p = metrics.bcubed(clusters, labels), metrics.pairwise(clusters, labels)
    print(
        f"  {name:<34} BCubed P {b.precision:.3f} R {b.recall:.3f} F {b.f:.3f} | "
        f"pairwise P {p.precision:.3f} R {p.recall:.3f} F {p.f:.3f} | clusters {len(set(clusters))}"
    )


def quality() -> None:
    faces = faceflow_photos.labelled_faces()
    real = [f for f in faces if f.identity]
    labels = [f.identity for f in real]
    counts = defaultdict(int)
    for who in labels:
        counts[who] += 1
    several = {w: n for w, n in counts.items() if n > 1}
    print(f"real faces {len(real)}, identities {len(counts)}, with several photos: {several}")
    x = np.stack([f.vector for f in real])
    for name in clustering.ALGORITHMS:
        _row(name, list(clustering.batch_labels(x, name)), labels)
    for name in clustering.ANCHORS:
        _row(f"anchor {name}", list(clustering.batch_labels(x, name)), labels)
    print("  agglomerative cut sweep (cosine distance):")
    for d in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        _row(f"    d={d}", list(clustering.agglomerative(clustering.normalised(x), d)), labels)

    def entries(fs):
        return [FaceEntry(f"{f.photo}#{f.index}", f.photo, f.vector, f.low_quality) for f in fs]

    album = AlbumPeople()
    album.add_faces(entries(faces))
    album.recluster()
    ids = [f"{f.photo}#{f.index}" for f in real]
    _row("FaceFlow album, one batch", [album.cluster_of[i] for i in ids], labels)

    by_photo = defaultdict(list)
    for f in faces:
        by_photo[f.photo].append(f)
    photos = sorted(by_photo)
    album = AlbumPeople()
    for upload in (photos[0::3], photos[1::3], photos[2::3]):
        album.add_faces(entries([f for p in upload for f in by_photo[p]]))
    _row("three uploads, assignment only", [album.cluster_of[i] for i in ids], labels)
    album.recluster()
    _row("three uploads, then re-cluster", [album.cluster_of[i] for i in ids], labels)


def synthetic(n: int, rng: np.random.Generator, dim: int = 128) -> tuple[np.ndarray, np.ndarray]:
    identities = max(1, n // 10)
    centres = clustering.normalised(rng.normal(size=(identities, dim)))
    who = rng.integers(0, identities, size=n)
    noise = clustering.normalised(rng.normal(size=(n, dim)))
    return clustering.normalised(0.75 * centres[who] + 0.66 * noise), who


def speed(sizes: list[int], max_agglomerative: int, max_fill: int) -> None:
    rng = np.random.default_rng(0)
    for n in sizes:
        x, who = synthetic(n, rng)
        for name in ("agglomerative", "dbscan", "hdbscan"):
            if name == "agglomerative" and n > max_agglomerative:
                print(f"  n={n:>6} {name:<14} skipped (n² distances: {n * n * 8 / 1e9:.0f} GB)")
                continue
            if name in ("hdbscan", "dbscan") and n > 20_000:
                print(f"  n={n:>6} {name:<14} skipped (neighbour search is O(n²) in 128-D)")
                continue
            t = time.perf_counter()
            labels = clustering.batch_labels(x, name)
            s = time.perf_counter() - t
            f = metrics.bcubed(list(labels), list(who)).f
            print(f"  n={n:>6} {name:<14} {s:8.2f} s  BCubed F {f:.3f}")
        # incremental: an album of n faces, then 200 faces arriving one photo each. Up to
        # --max-fill the album is filled face by face (the assignment route as a clustering);
        # beyond, it starts already clustered by the synthetic truth (the fill is too slow here).
        album = AlbumPeople()
        entries = [FaceEntry(f"f{i}", f"p{i}", x[i]) for i in range(n)]
        if n <= max_fill:
            t = time.perf_counter()
            album.add_faces(entries)
            fill = time.perf_counter() - t
            filled = f"fill {fill:8.2f} s ({fill / n * 1000:.2f} ms/face)"
        else:
            album.faces = {e.face_id: e for e in entries}
            album.cluster_of = {f"f{i}": f"C-{who[i]}" for i in range(n)}
            filled = "pre-clustered"
        extra, _ = synthetic(200, rng)
        times = []
        for i, v in enumerate(extra):
            t = time.perf_counter()
            album.add_faces([FaceEntry(f"new{i}", f"q{i}", v)])
            times.append(time.perf_counter() - t)
        times.sort()
        album._assigning = None  # a handler loading the album: the index is built first
        t = time.perf_counter()
        album.add_faces([FaceEntry("cold", "cold-photo", extra[0])])
        cold = time.perf_counter() - t
        print(
            f"  n={n:>6} incremental    {filled}; "
            f"one more face p50 {statistics.median(times) * 1000:.1f} ms "
            f"p99 {times[int(0.99 * len(times)) - 1] * 1000:.1f} ms; "
            f"first face after loading the album (index built) {cold * 1000:.0f} ms"
        )
        if n <= max_fill:
            # the assignment route as the batch: the album filled face by face vs the truth
            labels = [album.cluster_of[f"f{i}"] for i in range(n)]
            print(f"  n={n:>6} incremental    BCubed F {metrics.bcubed(labels, list(who)).f:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--max-agglomerative", type=int, default=20_000)
    parser.add_argument("--max-fill", type=int, default=20_000)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    if not args.skip_quality:
        quality()
    speed([int(s) for s in args.sizes.split(",")], args.max_agglomerative, args.max_fill)
    return 0


if __name__ == "__main__":
    sys.exit(main())
