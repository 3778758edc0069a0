"""Album ingestion end to end on the local backend: photos per second for a batch, against the
floor of the per-photo work (safe decode + SHA-256 + pHash + thumbnail, then faces: YuNet,
alignment, SFace) on one core, times the cores.

    .venv/bin/python benchmarks/bench_albums.py [--photos 100] [--runs 3]

Each run: a new album; every photo gets its upload ticket and is PUT to the local S3 (8 client
threads, as a browser uploads a few at a time); the clock stops when the album's status is IDLE
with every photo PROCESSED or DUPLICATE (S3 → SQS → starter → Step Functions in moto → the step
workers), its status read every second as the page reads it.
The floor: `faceflow.domain.ingest.ingest_photo` then `facekit.analysis.find_faces` +
`embed_faces` on the same photos in this process, one at a time (what ProcessPhoto computes),
measured right before each run (the machine is shared: the floor and the run it is compared
with see the same load); floor × cores is what the machine could do with nothing else to do.
Prints every run, the medians and the ratios (the median of each run against its own floor).

Where the time goes: `py-spy record --pid <this process> --nonblocking --rate 20 --format raw`
during a run (the main process hosts moto, the fronts and the pollers; the workers are its
children, `--subprocesses`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def floor_per_photo(photos: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Seconds of compute per photo on one core: the batch's total over its count (a mean, as
    throughput is: large photos weigh what they cost). Then Dedupe's own compute on the same
    photos, in jobs of 10 as the pipeline's (each job's photos against the album so far), which
    the issue's floor leaves out: (floor, dedupe) seconds per photo."""
    from faceflow.domain.ingest import ingest_photo
    from facekit import analysis

    facts, started = [], time.perf_counter()
    for _, data in photos:
        photo = ingest_photo(data, max_bytes=50 * 1024 * 1024)
        found = analysis.find_faces(photo.rgb, scale=photo.scale)
        facts.append((photo, found, analysis.embed_faces(found)))
    floor = (time.perf_counter() - started) / len(photos)
    return floor, _dedupe_per_photo(facts)


def _dedupe_per_photo(facts: list) -> float:
    import io

    import numpy as np
    from PIL import Image

    from faceflow.domain.dedupe import PhotoFaces, PhotoFacts, find_duplicates

    def thumbnail(photo_id: str) -> np.ndarray:  # as Dedupe reads it: a stored JPEG decoded
        with Image.open(io.BytesIO(facts[int(photo_id)][0].thumbnail)) as image:
            return np.asarray(image.convert("RGB"))

    def faces(photo_id: str) -> PhotoFaces:
        _, found, vectors = facts[int(photo_id)]
        if not found:
            return PhotoFaces.none()
        items = [f.face.as_item() for f in found]
        return PhotoFaces(
            boxes=np.array([i["box"] for i in items], float),
            landmarks=np.array([i["landmarks"] for i in items], float),
            vectors=vectors,
            unsure=np.array([f.quality.low for f in found]),
        )

    every = [
        PhotoFacts(str(i), p.sha256, p.phash, p.width, p.height, len(found), i)
        for i, (p, found, _) in enumerate(facts)
    ]
    started = time.perf_counter()
    for end in range(10, len(every) + 10, 10):
        new = {f.photo_id for f in every[end - 10 : end]}
        find_duplicates(every[:end], thumbnail, faces=faces, new=new)
    return (time.perf_counter() - started) / len(facts)


def one_run(user, photos: list[tuple[str, bytes]]) -> float:
    from local.album_client import content_type

    album = user.create_album("bench")
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: user.upload(album, p[1], p[0], content_type(p[0])), photos))
    status = user.wait_idle(album, len(photos), timeout=1800, every=1.0)  # as the page polls
    elapsed = time.perf_counter() - started
    if status["photos"]["failed"] or status["photos"]["total"] != len(photos):
        # Reported, not fatal: a loaded machine times a step out; the other runs still count.
        failed = [j["error"] for j in status["jobs"] if j["status"] == "FAILED"]
        print(f"run with failures: {status['photos']}, failed jobs: {failed}", flush=True)
    return elapsed


def _counts(backend) -> Counter:
    """Requests moto answered by kind, and Lambda invocations by function, so far."""
    counts = Counter({f"invoke {h.spec.name}": h.invocations for h in backend.hosts.values()})
    return counts + backend.moto.requests


def _per_photo(counts: Counter, photos: int) -> str:
    groups = Counter()
    for kind, n in counts.items():
        if kind.startswith("invoke "):
            groups["Lambda invocations"] += n
        elif kind.startswith("DynamoDB"):
            groups["DynamoDB requests"] += n
        elif kind.startswith("s3 "):
            groups["S3 requests"] += n
        else:
            groups["other AWS requests (SQS, Step Functions, …)"] += n
    top = ", ".join(f"{k.split('.')[-1]} {n / photos:.1f}" for k, n in counts.most_common(8))
    return "; ".join(f"{k} {n / photos:.1f}" for k, n in groups.items()) + f" (top: {top})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from local.album_client import AlbumUser, real_photos
    from local.runtime import LocalBackend

    photos = real_photos(args.photos)
    floor_per_photo(photos[:10])  # warm-up: the models loaded
    backend = LocalBackend(port=0, seed_styles=False)
    backend.start()
    runs, floors, dedupes = [], [], []
    try:
        user = AlbumUser.sign_up(backend)
        one_run(user, photos[:10])  # warm-up: cold starts of every step function
        for _ in range(args.runs):
            floor, dedupe = floor_per_photo(photos)
            floors.append(floor)
            dedupes.append(dedupe)
            before = _counts(backend)
            runs.append(one_run(user, photos))
            work = _counts(backend) - before
    finally:
        backend.stop()
    cores = os.cpu_count() or 1
    ratios = []
    for i, (seconds, floor) in enumerate(zip(runs, floors, strict=True), 1):
        rate, floor_rate = args.photos / seconds, cores / floor
        ratios.append(rate / floor_rate)
        print(
            f"run {i}: {args.photos} photos in {seconds:.1f} s = {rate:.2f}/s; floor "
            f"{floor * 1000:.0f} ms/photo/core = {floor_rate:.2f}/s on {cores} cores; "
            f"ratio {ratios[-1]:.3f}"
        )
    median, floor = statistics.median(runs), statistics.median(floors)
    rate = args.photos / median
    print(f"end to end (median of {len(runs)}): {rate:.2f} photos/s ({median:.1f} s)")
    print(
        f"floor (median): {floor * 1000:.1f} ms per photo = {1 / floor:.2f} photos/s per core, "
        f"{cores / floor:.2f}/s on {cores} cores"
    )
    ratio = statistics.median(ratios)
    print(f"ratio end-to-end / floor × cores (median of the runs'): {ratio:.3f}")
    dedupe = statistics.median(dedupes)
    with_dedupe = statistics.median(
        (args.photos / r) / (cores / (f + d)) for r, f, d in zip(runs, floors, dedupes, strict=True)
    )
    print(
        f"Dedupe's own compute (not in the floor): {dedupe * 1000:.1f} ms per photo; ratio "
        f"end-to-end / (floor + Dedupe) × cores: {with_dedupe:.3f}"
    )
    print(f"workers per function: {backend.concurrency}")
    print(f"per photo, last run (status polls included): {_per_photo(work, args.photos)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
