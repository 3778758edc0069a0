"""FaceFlow's people at library scale, on moto in process (decorator mode), synthetic 128-D faces
(10 per identity): the batch clustering, each edit, incremental assignment, and Cluster jobs of
one album racing through the real code path.

    .venv/bin/python benchmarks/bench_people_scale.py --faces 10000 [--jobs 64] [--json]

- batch: faceflow.domain.people's recluster of the album's faces (knn-average: a FAISS k-NN
  graph, components clustered apart), its wall time, the process's peak RSS, BCubed F against
  the identities; the result is then written as records (faceflow.storage.people, the
  large-change path: intent, batches) — the time printed beside, not in the contract.
- edits: label, merge, split, undo through faceflow.edge.people (the API's use cases), p50 ms.
- assignment: one face placed by the domain against the album's warm centroid index (what the
  cluster writer does per face), p99 ms over 300 faces.
- concurrent jobs: `--jobs` jobs of 10 photos × 2 faces sent to a FIFO queue (the album as the
  message group) and drained by 4 threads calling faceflow.edge.clusterer.run_batch, as the
  Lambda event source mapping does: failed jobs, wall seconds.

The last line is one JSON object (the issue's contract).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

import boto3  # noqa: E402
import numpy as np  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.album_resources import ENV, create_album_resources  # noqa: E402

USER = "bench-user"
DIM = 128


def _faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = max(1, n // 10)
    centres = rng.normal(size=(ids, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.arange(n) % ids
    vectors = centres[labels] + rng.normal(size=(n, DIM)) * (0.5 / np.sqrt(DIM))
    return vectors.astype(np.float32), labels


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(album: str, n: int) -> dict:
    """The batch clustering of n faces, then its records written."""
    from faceflow.domain import metrics
    from faceflow.domain.people import FaceEntry, changes_since, slice_of, snapshot
    from faceflow.storage import people as store
    from faceflow.storage.people import Member

    vectors, labels = _faces(n)
    entries = [FaceEntry(f"p{i:07d}-000", f"p{i:07d}", vectors[i]) for i in range(n)]
    part = slice_of([], {}, labels={}, links={})
    before = snapshot(part)
    started = time.perf_counter()
    for e in entries:  # a fresh album: faces held, then the batch algorithm over all of them
        part.faces[e.face_id] = e
        part.cluster_of[e.face_id] = e.face_id
    part.recluster()
    batch_s = time.perf_counter() - started
    rss = _peak_rss_mb()
    found = [part.cluster_of[e.face_id] for e in entries]
    f = metrics.bcubed(found, list(labels)).f
    started = time.perf_counter()
    facts = {"box": [0, 0, 10, 10], "score": 1, "cropKey": "k"}
    known = {e.face_id: Member(e.face_id, e.photo_id, False, e.vector, facts) for e in entries}
    _face_items(album, entries)
    with store.held(USER, album, 60) as lease:
        changes = changes_since(part, before)
        store.commit(lease, store.writes_for(lease, changes, known, {}))
    write_s = time.perf_counter() - started
    return {"batch_s": batch_s, "rss": rss, "f": f, "write_s": write_s}


def _face_items(album: str, entries) -> None:
    from faceflow.storage import keys
    from faceflow.storage.table import table

    with table().batch_writer() as batch:
        for e in entries:
            batch.put_item(
                Item={**keys.face_key(album, e.face_id), "faceId": e.face_id, "userId": USER}
            )


def edits(album: str, rounds: int) -> dict[str, float]:
    from faceflow.edge import people
    from faceflow.storage import people as store

    page, _ = store.cluster_page(album, 100, None)
    ids = [r.cluster_id for r in page]
    rng = random.Random(1)
    times: dict[str, list[float]] = {"label": [], "merge": [], "split": [], "undo": []}

    def timed(name, call):
        started = time.perf_counter()
        out = call()
        times[name].append((time.perf_counter() - started) * 1000)
        return out

    for k in range(rounds):
        a, b = rng.sample(ids, 2)
        timed("label", lambda a=a, k=k: people.label(USER, album, a, f"Person {k}"))
        timed("undo", lambda: people.undo(USER, album))
        merged = timed("merge", lambda a=a, b=b: people.merge(USER, album, [a, b]))
        faces = [m.face_id for m in store.members(album, merged)]
        timed("split", lambda m=merged, f=faces: people.split(USER, album, m, f[:1]))
        timed("undo", lambda: people.undo(USER, album))
        timed("undo", lambda: people.undo(USER, album))
    return {name: round(statistics.median(t), 1) for name, t in times.items()}


def assignment(album: str, count: int) -> float:
    """p99 ms of placing one face against the warm index (the cluster writer's per-face work)."""
    from faceflow.domain.clustering import CentroidIndex
    from faceflow.domain.people import FaceEntry, slice_of
    from faceflow.storage import people as store

    records = [r for r in store.all_clusters(album) if r.good]
    index = CentroidIndex.of_sums(
        [r.cluster_id for r in records], np.stack([r.sum for r in records])
    )
    vectors, _ = _faces(count, seed=7)
    times = []
    for i in range(count):
        part = slice_of([], {}, labels={}, links={})
        entry = FaceEntry(f"new{i:06d}-000", f"new{i:06d}", vectors[i])
        started = time.perf_counter()
        part.add_faces([entry], index=index)
        times.append((time.perf_counter() - started) * 1000)
    return round(float(np.percentile(times, 99)), 2)


def _page_ms(album: str, runs: int = 5) -> float:
    """p50 ms of GET /clusters' use case: one page of 50 clusters with their faces' views."""
    from faceflow.edge import people

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        people.list_clusters(USER, album, 50, None)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _job_photos(album: str, jobs: int, photos: int) -> list[dict]:
    """Each job's photos PROCESSING, 2 embedded faces each (FACE# items, a vectors object)."""
    from faceflow.storage import faces, keys
    from faceflow.storage.table import table

    vectors, _ = _faces(jobs * photos * 2, seed=3)
    out, row = [], 0
    with table().batch_writer() as batch:
        for j in range(jobs):
            ids = []
            for p in range(photos):
                photo = f"job{j:04d}p{p:02d}"
                ids.append(photo)
                key = keys.vectors_key(USER, album, photo)
                faces.put_vectors(key, vectors[row : row + 2])
                batch.put_item(
                    Item={
                        **keys.photo_key(album, photo),
                        "photoId": photo,
                        "status": "PROCESSING",
                        "faceCount": 2,
                    }
                )
                for i in range(2):
                    face = keys.face_id_of(photo, i)
                    batch.put_item(
                        Item={
                            **keys.face_key(album, face),
                            "faceId": face,
                            "photoId": photo,
                            "userId": USER,
                            "lowQuality": False,
                            "box": [0, 0, 10, 10],
                            "score": 1,
                            "cropKey": "k",
                            "embeddingKey": key,
                            "embeddingRow": i,
                        }
                    )
                row += 2
            out.append({"albumId": album, "userId": USER, "jobId": f"job{j:04d}", "photoIds": ids})
    return out


def concurrent_jobs(album: str, jobs: int, photos: int = 10, workers: int = 4) -> dict:
    """`jobs` Cluster jobs through the FIFO queue and the writer, `workers` pollers at once."""
    from faceflow.edge import clusterer
    from faceflow.storage import keys
    from faceflow.storage import people as store

    messages = _job_photos(album, jobs, photos)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="bench-cluster.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for m in messages:
        body = {**m, "taskToken": f"bench-token-{m['jobId']}"}
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), MessageGroupId=album)
    errors: list[str] = []
    started = time.perf_counter()

    def poll():
        idle = 0
        while idle < 3:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                idle += 1
                time.sleep(0.05)
                continue
            idle = 0
            try:
                clusterer.run_batch([json.loads(g["Body"]) for g in got])
            except Exception as err:  # counted, as a failed invocation would be
                errors.append(repr(err))
                continue
            for g in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=g["ReceiptHandle"])

    threads = [threading.Thread(target=poll) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    failed = 0
    for m in messages:
        found = [keys.face_id_of(p, i) for p in m["photoIds"] for i in range(2)]
        failed += len(store.face_clusters(album, found)) != 2 * photos
    return {"jobs": jobs, "failed": failed, "wall_s": round(wall, 1), "errors": len(errors)}


def _moto_as_the_local_runtime_runs_it() -> None:
    """The local runtime's fixes of moto's DynamoDB costs (a Query walking the whole table, a
    transaction copying it): the figures are FaceFlow's work, not moto's."""
    from local.moto_dynamodb import cheap_transactions

    cheap_transactions()
    try:
        from local.motoserver import _partition_queries
    except ImportError:  # not in this checkout
        return
    _partition_queries()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--edit-rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.update(ENV)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
    _moto_as_the_local_runtime_runs_it()
    with mock_aws():
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        from faceflow.edge import people
        from faceflow.storage import albums

        album = albums.create_album(USER, "bench").album_id
        b = batch(album, args.faces)
        print(
            f"faces {args.faces}: batch {b['batch_s']:.1f} s, peak RSS {b['rss']:.0f} MB, "
            f"BCubed F {b['f']:.3f}; records written in {b['write_s']:.1f} s",
            flush=True,
        )
        e = edits(album, args.edit_rounds)
        print(f"edit p50 ms: {e}", flush=True)
        started = time.perf_counter()
        people.recluster_now(USER, album, 60)  # in the request up to 10k faces, else the writer
        recluster_s = time.perf_counter() - started
        page_ms = _page_ms(album)
        print(
            f"recluster (every face again, keeping every edit) {recluster_s:.1f} s; "
            f"one page of 50 clusters p50 {page_ms} ms",
            flush=True,
        )
        a = assignment(album, 300)
        print(f"assignment p99 {a} ms", flush=True)
        c = concurrent_jobs(album, args.jobs)
        print(f"concurrent Cluster jobs: {c}", flush=True)
    result = {
        "faces": args.faces,
        "batch_s": round(b["batch_s"], 2),
        "batch_peak_rss_mb": round(b["rss"]),
        "batch_bcubed_f": round(b["f"], 4),
        "edit_p50_ms": e,
        "assign_p99_ms": a,
        "concurrent_jobs": {k: c[k] for k in ("jobs", "failed", "wall_s")},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
