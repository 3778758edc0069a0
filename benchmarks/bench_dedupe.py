"""FaceFlow de-duplication quality and the ingestion floor, on the real registry photos.

    .venv/bin/python benchmarks/bench_dedupe.py [--runs N]

The set (tests/faceflow_photos.py): every distinct registry photo, seven transformed copies of
each (re-encode q60, PNG, resize 50%, crop 5% each side, crop 10% left+top, EXIF-rotated, crop +
resize + q70), the real re-encoded copy (32bit.png of obama2.jpg), and two heavy crops of
obama.jpg counted as their own pictures. Distinct shots include the same person on other days
(Macron, Ardern, Obama ×4) and six different group shots; no registry package has a real burst.

Printed: pairwise precision/recall of "same group" against truth over all photo pairs, recall
per transform, pHash/histogram/SSIM candidate counts, and per-photo ingestion time (median)
against its floor (decode alone) with each part: decode, SHA-256, pHash, thumbnail.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from faceflow import dedupe, ingest  # noqa: E402
from facekit import imaging  # noqa: E402
from tests import faceflow_photos  # noqa: E402

MAX_BYTES = 64 * 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    items = faceflow_photos.near_duplicate_set()
    if len(items) < 100:
        print("missing the registry photos: run scripts/fetch_photos.py", file=sys.stderr)
        return 1
    facts, thumbs, truth = [], {}, {}
    for order, (name, data, original) in enumerate(items):
        photo = ingest.ingest_photo(data, max_bytes=MAX_BYTES)
        facts.append(
            dedupe.PhotoFacts(name, photo.sha256, photo.phash, photo.width, photo.height, 0, order)
        )
        thumbs[name] = np.asarray(Image.open(io.BytesIO(photo.thumbnail)))
        truth[name] = original or name
    started = time.perf_counter()
    result = dedupe.find_duplicates(facts, thumbs.__getitem__)
    dedupe_s = time.perf_counter() - started
    group = {f.photo_id: result.duplicate_of.get(f.photo_id, f.photo_id) for f in facts}

    names = [f.photo_id for f in facts]
    tp = fp = fn = 0
    for i, a in enumerate(names):
        for b in names[:i]:
            same, found = truth[a] == truth[b], group[a] == group[b]
            tp += same and found
            fp += found and not same
            fn += same and not found
    print(f"photos: {len(items)} ({len({*truth.values()})} distinct pictures)")
    print(f"pairwise precision {tp / max(tp + fp, 1):.3f}  recall {tp / max(tp + fn, 1):.3f}")
    per_transform = defaultdict(lambda: [0, 0])
    for name, _, original in items:
        if original is None:
            continue
        kind = name.split("[")[-1].rstrip("]") if "[" in name else "real re-encoded copy"
        per_transform[kind][0] += group[name] == group[original]
        per_transform[kind][1] += 1
    for kind, (hit, total) in per_transform.items():
        print(f"  recall {kind:<28} {hit}/{total}")
    pairs = len(names) * (len(names) - 1) // 2
    print(
        f"pairs {pairs}; SSIM confirmations run {result.compared}; "
        f"de-duplication of the whole set {dedupe_s:.1f} s"
    )

    # Ingestion floor: per photo, each part alone (medians over photos × runs).
    parts: dict[str, list[float]] = defaultdict(list)
    distinct = faceflow_photos.distinct_photos()
    for _ in range(args.runs):
        for _, data in distinct:
            t = time.perf_counter()
            decoded = imaging.decode_image(
                data,
                max_pixels=ingest.MAX_PIXELS,
                max_bytes=MAX_BYTES,
                target_max_side=ingest.WORKING_MAX_SIDE,
            )
            t1 = time.perf_counter()
            ingest.sha256_hex(data)
            t2 = time.perf_counter()
            ingest.phash_hex(decoded.rgb)
            t3 = time.perf_counter()
            imaging.encode_jpeg(ingest.thumbnail_of(decoded.rgb), quality=ingest.THUMB_QUALITY)
            t4 = time.perf_counter()
            ingest.ingest_photo(data, max_bytes=MAX_BYTES)
            t5 = time.perf_counter()
            for key, value in (
                ("decode", t1 - t),
                ("sha256", t2 - t1),
                ("phash", t3 - t2),
                ("thumbnail", t4 - t3),
                ("ingest_photo", t5 - t4),
            ):
                parts[key].append(value)
    print(f"ingestion per photo ({len(distinct)} photos × {args.runs}, medians, one core):")
    for key, values in parts.items():
        print(f"  {key:<13} {statistics.median(values) * 1000:7.1f} ms")
    floor = sum(statistics.median(parts[k]) for k in ("decode", "sha256", "phash", "thumbnail"))
    whole = statistics.median(parts["ingest_photo"])
    print(
        f"  floor (decode + hashes + thumbnail) {floor * 1000:.1f} ms; ingest_photo "
        f"{whole / floor:.2f}× floor; {1 / whole:.1f} photos/s per core (floor {1 / floor:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
