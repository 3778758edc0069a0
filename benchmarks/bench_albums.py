"""Album ingestion end to end on the local backend: photos per second for a batch, against the
floor of the per-photo work (safe decode + SHA-256 + pHash + thumbnail, then faces: YuNet,
alignment, SFace) on one core.

    .venv/bin/python benchmarks/bench_albums.py [--photos 100] [--runs 3]

Each run: a new album; every photo gets its upload ticket and is PUT to the local S3 (8 client
threads, as a browser uploads a few at a time); the clock stops when the album's status is IDLE
with every photo PROCESSED or DUPLICATE (S3 → SQS → starter → Step Functions in moto → the step
workers).
The floor: `faceflow.domain.ingest.ingest_photo` then `facekit.analysis.find_faces` +
`embed_faces` on the same photos in this process, one at a time (what ExtractEXIF, DetectAlign
and Embed compute).
Prints every run, the medians and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def floor_per_photo(photos: list[tuple[str, bytes]], rounds: int = 3) -> float:
    from faceflow.domain.ingest import ingest_photo
    from facekit import analysis

    times = []
    for _ in range(rounds):
        for _, data in photos:
            started = time.perf_counter()
            photo = ingest_photo(data, max_bytes=50 * 1024 * 1024)
            analysis.embed_faces(analysis.find_faces(photo.rgb, scale=photo.scale))
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def one_run(user, photos: list[tuple[str, bytes]]) -> float:
    from local.album_client import content_type

    album = user.create_album("bench")
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: user.upload(album, p[1], p[0], content_type(p[0])), photos))
    status = user.wait_idle(album, len(photos), timeout=1800)
    elapsed = time.perf_counter() - started
    if status["photos"]["failed"] or status["photos"]["total"] != len(photos):
        raise SystemExit(f"run failed: {status}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from local.album_client import AlbumUser, real_photos
    from local.runtime import LocalBackend

    photos = real_photos(args.photos)
    floor = floor_per_photo(photos)
    backend = LocalBackend(port=0, seed_styles=False)
    backend.start()
    try:
        user = AlbumUser.sign_up(backend)
        one_run(user, photos[:10])  # warm-up: cold starts of every step function
        runs = [one_run(user, photos) for _ in range(args.runs)]
    finally:
        backend.stop()
    for i, seconds in enumerate(runs, 1):
        print(f"run {i}: {args.photos} photos in {seconds:.1f} s = {args.photos / seconds:.2f}/s")
    median = statistics.median(runs)
    rate, floor_rate = args.photos / median, 1 / floor
    print(f"end to end (median of {len(runs)}): {rate:.2f} photos/s ({median:.1f} s per batch)")
    print(f"floor: {floor * 1000:.1f} ms per photo = {floor_rate:.1f} photos/s per core")
    print(f"ratio end-to-end / floor (one core): {rate / floor_rate:.3f}")
    print(f"cores: {os.cpu_count()}; workers per function: {backend.concurrency}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
