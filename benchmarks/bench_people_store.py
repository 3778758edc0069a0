"""What one people edit costs as the album grows: load the state (PEOPLE item, state JSON,
vectors), apply a label, commit a new version — on moto (in process), synthetic 128-D faces.

    .venv/bin/python benchmarks/bench_people_store.py [--sizes 1000,10000] [--edits 20]

Prints per size the state's sizes (JSON, vectors) and the median / p90 of a GET /clusters read
(load only) and of a label edit (load + commit). moto's S3 and DynamoDB are in-process, so the
figures are the work FaceFlow does (JSON, numpy, from_state), not the network's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

import boto3  # noqa: E402
import numpy as np  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.album_resources import BUCKETS, ENV, create_album_resources  # noqa: E402

USER = "bench-user"


def _album(n: int) -> tuple[str, list[str]]:
    from faceflow.domain.people import FaceEntry
    from faceflow.storage import albums
    from faceflow.storage import people as stored_people

    album = albums.create_album(USER, "bench").album_id
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(max(1, n // 10), 128))
    vectors = centres[np.arange(n) % len(centres)] + 0.6 * rng.normal(size=(n, 128))
    entries = [FaceEntry(f"{i:012x}-000", f"{i:012x}", vectors[i]) for i in range(n)]

    def fill(stored):
        stored.people.add_faces(entries)
        for e in entries:
            stored.facts[e.face_id] = {
                "photoId": e.photo_id,
                "box": [10.0, 20.0, 100.0, 120.0],
                "score": 0.9,
                "lowQuality": False,
                "cropKey": f"tenant/{USER}/{album}/crops/{e.face_id}.png",
            }

    stored_people.change(USER, album, fill, vectors_changed=True)
    return album, sorted(stored_people.load(USER, album).people.members())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    os.environ.update({**ENV, "AWS_DEFAULT_REGION": "us-west-2"})
    with mock_aws():
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        from faceflow.edge import people as people_cases
        from faceflow.storage import keys, table
        from faceflow.storage import people as stored_people

        for n in (int(s) for s in args.sizes.split(",")):
            album, clusters = _album(n)
            item = table.table().get_item(Key=keys.people_key(album))["Item"]
            s3 = boto3.client("s3")
            bucket = BUCKETS["ALBUM_EMBEDDINGS_BUCKET"]
            size = {
                k: s3.head_object(Bucket=bucket, Key=item[k])["ContentLength"]
                for k in ("stateKey", "vectorsKey")
            }
            reads, edits = [], []
            for i in range(args.edits):
                t = time.perf_counter()
                stored_people.load(USER, album).people.clusters()
                reads.append(time.perf_counter() - t)
                t = time.perf_counter()
                people_cases.label(USER, album, clusters[i % len(clusters)], f"Person {i}")
                edits.append(time.perf_counter() - t)

            def stats(xs):
                xs = sorted(xs)
                p90 = xs[int(0.9 * len(xs)) - 1]
                return f"p50 {statistics.median(xs) * 1000:6.0f} ms  p90 {p90 * 1000:6.0f} ms"

            print(
                f"faces {n:>6}  clusters {len(clusters):>5}  state {size['stateKey'] / 1e6:5.1f} MB"
                f"  vectors {size['vectorsKey'] / 1e6:5.1f} MB | read {stats(reads)} | "
                f"label edit {stats(edits)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
