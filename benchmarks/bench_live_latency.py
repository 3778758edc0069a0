"""Live progress latency on the local backend: from a state change written to a table to the
client's WebSocket message, for album jobs and styling processes.

    .venv/bin/python benchmarks/bench_live_latency.py [--changes 30]

One user connects to the WebSocket API as the page does (`websocketUrl`, its ID token). Each
change is one UpdateItem, written with the local AWS client exactly as a pipeline step writes it:
an album job's status/step (album.status is then the album's status read by the publisher) and a
styling process's status (process.status). The clock starts before the write and stops when the
socket delivers the message that change caused: the stream poller (local/streams.py, every
100 ms), the publisher function, the management API and the socket. A full album run on a real
photo is timed too: from the upload's PUT to the first album.status message and to the IDLE one.
Prints every phase's median, p90 and max in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def summary(name: str, ms: list[float]) -> None:
    ordered = sorted(ms)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    print(
        f"{name:<38} n={len(ms):>3}  median {statistics.median(ms):7.1f} ms  "
        f"p90 {p90:7.1f} ms  max {ordered[-1]:7.1f} ms"
    )


def wait_for(socket, test, timeout: float = 30.0) -> float:
    """perf_counter() when a message passing `test` arrived."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if test(message):
            return time.perf_counter()


def job_changes(backend, socket, user, changes: int) -> list[float]:
    """Job items written as faceflow.storage.jobs writes them, then moved step by step."""
    from faceflow.storage import keys

    ddb = backend.client("dynamodb")
    table = backend.environment_of("album_api.handler")["ALBUM_TABLE"]
    album = user.create_album("bench-live")
    job = f"bench-{uuid.uuid4().hex[:8]}"
    key = {name: {"S": value} for name, value in keys.job_key(album, job).items()}
    now = {"S": "2026-12-08T00:00:00Z"}
    ddb.put_item(
        TableName=table,
        Item={
            **key,
            "jobId": {"S": job},
            "albumId": {"S": album},
            "userId": {"S": user.sub},
            "status": {"S": "QUEUED"},
            "createdAt": now,
            "updatedAt": now,
        },
    )
    wait_for(socket, lambda m: m.get("albumId") == album)
    latencies = []
    for i in range(changes):
        status = "RUNNING" if i < changes - 1 else "SUCCEEDED"
        started = time.perf_counter()
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :s, step = :step",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}, ":step": {"S": f"Step{i}"}},
        )
        done = wait_for(socket, lambda m: m.get("albumId") == album)
        latencies.append((done - started) * 1000)
    return latencies


def process_changes(backend, socket, user, changes: int) -> list[float]:
    """A process item moved back and forth between two statuses (each write a change)."""
    ddb = backend.client("dynamodb")
    table = backend.environment_of("upload.handler")["PROCESS_TABLE"]
    process = str(uuid.uuid4())
    key = {"processId": {"S": process}}
    ddb.put_item(
        TableName=table,
        Item={**key, "userId": {"S": user.sub}, "status": {"S": "CREATED"}, "styles": {"M": {}}},
    )
    wait_for(socket, lambda m: m.get("processId") == process)
    latencies = []
    for i in range(changes):
        status = ("CROPPED", "SWAPPING")[i % 2]
        started = time.perf_counter()
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
        )
        done = wait_for(
            socket, lambda m, s=status: m.get("processId") == process and m["status"] == s
        )
        latencies.append((done - started) * 1000)
    return latencies


def album_runs(socket, user, runs: int) -> tuple[list[float], list[float]]:
    from local.photos import astronaut
    from tests import hostile

    first, idle = [], []
    for _ in range(runs):
        album = user.create_album("bench-run")
        started = time.perf_counter()
        user.upload(album, hostile.jpeg(astronaut()), "astronaut.jpg")
        at = wait_for(socket, lambda m, a=album: m.get("albumId") == a, timeout=240)
        first.append((at - started) * 1000)
        at = wait_for(
            socket, lambda m, a=album: m.get("albumId") == a and m["status"] == "IDLE", 240
        )
        idle.append((at - started) * 1000)
    return first, idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3, help="full album runs on a real photo")
    args = parser.parse_args()

    from websockets.sync.client import connect

    from local.album_client import AlbumUser
    from local.runtime import LocalBackend

    backend = LocalBackend(port=0)
    backend.start()
    try:
        user = AlbumUser.sign_up(backend)
        url = f"{backend.client_config().websocketUrl}?token={user.token}"
        with connect(url, open_timeout=30) as socket:
            process_changes(backend, socket, user, 3)  # warm: the publisher's first invocations
            summary("job change -> album.status", job_changes(backend, socket, user, args.changes))
            summary(
                "process change -> process.status",
                process_changes(backend, socket, user, args.changes),
            )
            first, idle = album_runs(socket, user, args.runs)
            summary("upload PUT -> first album.status", first)
            summary("upload PUT -> album.status IDLE", idle)
    finally:
        backend.stop()


if __name__ == "__main__":
    main()
