"""The share exporter on a share of 500 photos: throughput (archive MB/s) and peak memory.

    .venv/bin/python benchmarks/bench_share_export.py [--photos 500] [--runs 3] [--scale 1 2]
        [--keep-location]

S3, DynamoDB, SQS, SES and Secrets Manager are a moto server in a process of its own, so the
objects it holds are not counted in the exporter's memory. Photos are the real registry photos
(.cache/photos), cycled to make up the count, each uploaded as a photo of its own; the default
`--scale 1 2` also runs them upscaled 2x per side (re-encoded JPEG, quality 92): a bigger
archive, to show memory does not grow with it. Each run is a fresh share exported in a fresh
process by `faceflow.edge.exporter.export` (what the exporter Lambda runs: the ZIP streamed into a
multipart upload, each photo's copy, the manifest, the email); that process samples its RSS
every 5 ms during the export and reports the peak against its RSS just before (imports and
clients done; not ru_maxrss, which Linux carries over from the parent across fork and exec).
The ZIP's own rate is the time of `faceflow.storage.exports.write_archive` alone; the floor, the
same ZIP written from memory into a sink (no S3). Prints every run and the medians.

By default each share removes the photos' location (faceflow.domain.location: each original read,
edited, written); `--keep-location` shares the originals untouched (server-side copies): run both
to see what the edit costs.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared"), str(ROOT / "lambda/sharing")]
USER = "bench-user-0000-4000-8000-000000000001"
MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _moto(port: int) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    while True:
        time.sleep(3600)


def _environment(port: int) -> None:
    """moto's endpoint and test credentials; the album and share settings unless set already
    (the exporters inherit the parent's, the deployment's part size included)."""
    from tests.album_resources import ENV
    from tests.share_resources import ENV as SHARE_ENV

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # pragma: allowlist secret
        AWS_DEFAULT_REGION="us-west-2",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    for name, value in {**ENV, **SHARE_ENV}.items():
        os.environ.setdefault(name, value)


def _photos(count: int, scale: int) -> list[tuple[str, bytes]]:
    from PIL import Image

    from tests.faceflow_photos import distinct_photos

    real = [(n, d) for n, d in distinct_photos() if n.endswith(".jpg")]
    if scale > 1:
        resized = []
        for name, data in real:
            image = Image.open(io.BytesIO(data)).convert("RGB")
            image = image.resize((image.width * scale, image.height * scale), Image.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=92)
            resized.append((name, out.getvalue()))
        real = resized
    return [real[i % len(real)] for i in range(count)]


def _upload(count: int, scale: int) -> tuple[str, list[str], int]:
    import boto3

    from faceflow.edge import uploads
    from faceflow.storage import albums, keys, table
    from tests.album_resources import BUCKETS

    album = albums.create_album(USER, f"bench ×{scale}").album_id
    s3 = boto3.client("s3")
    ids, total = [], 0
    for name, data in _photos(count, scale):
        _, ticket = uploads.request_upload(
            USER,
            album,
            file_name=name.rsplit("/", 1)[-1],
            content_type="image/jpeg",
            size=len(data),
            sha256=None,
        )
        key = table.table().get_item(Key=keys.photo_key(album, ticket["photoId"]))["Item"]
        s3.put_object(Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=key["rawKey"], Body=data)
        ids.append(ticket["photoId"])
        total += len(data)
    return album, ids, total


def _export(port: int, album: str, share: str, out: multiprocessing.Queue) -> None:
    _environment(port)
    import threading

    import psutil

    from faceflow.edge import exporter
    from faceflow.storage import exports, objects, shares

    # The archive's own time, apart from the photos' copies, manifest and email that follow.
    write_archive, archive_s = exports.write_archive, []

    def timed(*args, **kw):
        started = time.perf_counter()
        try:
            return write_archive(*args, **kw)
        finally:
            archive_s.append(time.perf_counter() - started)

    exports.write_archive = timed
    objects.s3().list_buckets()  # clients made, imports done: the baseline
    me = psutil.Process()
    before = me.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # the resident set while the export runs, every 5 ms
        while not done.wait(0.005):
            peak[0] = max(peak[0], me.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    status = exporter.export(USER, album, share)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    item = shares.load(album, share)
    out.put(
        {
            "status": status,
            "s": elapsed,
            "bytes": int(item["archiveBytes"]),
            "before": before,
            "peak": max(peak[0], me.memory_info().rss),
            "archive_s": archive_s[0],
        }
    )


def floor(photos: list[tuple[str, bytes]]) -> float:
    """MB/s of the ZIP itself (stored entries, CRC-32) into a sink, from memory: the exporter's
    own work without S3."""
    import zipfile

    from faceflow.domain.archive import READ_CHUNK

    class Sink(io.RawIOBase):
        position = 0

        def writable(self) -> bool:
            return True

        def tell(self) -> int:
            return self.position

        def write(self, data) -> int:
            self.position += len(data)
            return len(data)

    times = []
    for _ in range(3):
        sink = Sink()
        started = time.perf_counter()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
            for i, (name, data) in enumerate(photos):
                with archive.open(zipfile.ZipInfo(f"{i}-{name[-40:]}"), "w") as entry:
                    for at in range(0, len(data), READ_CHUNK):
                        entry.write(data[at : at + READ_CHUNK])
        times.append(sink.position / MB / (time.perf_counter() - started))
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--keep-location", action="store_true")
    args = parser.parse_args()
    port = _free_port()
    spawn = multiprocessing.get_context("spawn")
    server = spawn.Process(target=_moto, args=(port,), daemon=True)
    server.start()
    _environment(port)
    import boto3
    import requests

    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    from faceflow.edge import shares
    from tests.album_resources import create_album_resources
    from tests.share_resources import create_share_resources

    class Env:
        setenv = staticmethod(os.environ.__setitem__)

    create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
    clients = (boto3.client(s) for s in ("sqs", "ses", "secretsmanager"))
    create_share_resources(*clients, Env)
    from stacks.settings import Settings

    os.environ["SHARE_LIMIT_PER_HOUR"] = "1000"
    # The deployment's part size, in this process and the exporters' (they inherit it).
    os.environ["SHARE_PART_SIZE_BYTES"] = str(Settings().share_part_size_bytes)
    print(
        f"share export: {args.photos} photos per share, part size "
        f"{int(os.environ['SHARE_PART_SIZE_BYTES']) // MB} MiB, {args.runs} runs per size, "
        f"location {'kept' if args.keep_location else 'removed'}"
    )
    try:
        for scale in args.scale:
            album, ids, total = _upload(args.photos, scale)
            runs = []
            for _ in range(args.runs):
                share = shares.share_photos(
                    USER,
                    album,
                    ids,
                    recipients=["r@example.com"],
                    keep_location=args.keep_location,
                )
                queue = spawn.Queue()
                worker = spawn.Process(target=_export, args=(port, album, share["shareId"], queue))
                worker.start()
                result = queue.get(timeout=3600)
                worker.join()
                assert result["status"] == "READY", result
                runs.append(result)
                grown = (result["peak"] - result["before"]) / MB
                print(
                    f"  ×{scale}: {result['bytes'] / MB:7.1f} MB in {result['s']:6.2f} s = "
                    f"{result['bytes'] / MB / result['s']:6.1f} MB/s; RSS "
                    f"{result['before'] / MB:.1f} MiB before, {result['peak'] / MB:.1f} MiB at "
                    f"most during the export (+{grown:.1f}); the ZIP itself "
                    f"{result['bytes'] / MB / result['archive_s']:.1f} MB/s"
                )
            median = statistics.median
            print(
                f"median ×{scale}: {args.photos} photos, {total / MB:.1f} MB of originals: "
                f"{median(r['bytes'] / MB / r['s'] for r in runs):.1f} MB/s end to end "
                f"({median(r['bytes'] / MB / r['archive_s'] for r in runs):.1f} MB/s for the ZIP "
                "streamed into S3); peak RSS "
                f"{median(r['peak'] for r in runs) / MB:.1f} MiB "
                f"(+{median(r['peak'] - r['before'] for r in runs) / MB:.1f} MiB over the "
                f"process before it); the ZIP alone from memory: "
                f"{floor(_photos(args.photos, scale)):.0f} MB/s"
            )
    finally:
        server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
