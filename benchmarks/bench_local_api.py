"""Requests per second and latency of the local backend's HTTP front, by number of clients.

    .venv/bin/python benchmarks/bench_local_api.py [--seconds 3] [--clients 1,8,64,200]

Routes, each measured with 1, 8, 64 and 200 concurrent keep-alive clients (one connection each):
- GET /config.json: the floor (no function, no AWS call);
- GET /prod/agree: a cheap API route (Cognito JWT verified, proxy event, one function invocation
  in a worker process, one DynamoDB GetItem in moto);
- POST /prod/apis/images/upload: the upload route (agreement and style checks, a Process written,
  a presigned POST signed).
Prints requests/s, median (p50) and p99 latency, connection errors and non-2xx answers per row,
and each API route's throughput as a ratio to the floor's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), "lambda/shared"]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Row:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors (reset, refused, timed out)
    refused: int  # answers other than the expected 2xx (429/503 when the front sheds load)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(
    method: str, url: str, headers: dict[str, str], body: dict | None, clients: int, seconds: float
) -> Row:
    import requests

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    refused = [0] * clients
    start = threading.Barrier(clients + 1)
    stop: list[float] = []

    def run(i: int) -> None:
        session = requests.Session()
        start.wait()
        while time.monotonic() < stop[0]:
            t = time.perf_counter()
            try:
                r = session.request(method, url, headers=headers, json=body, timeout=60)
            except requests.RequestException:
                errors[i] += 1
                session = requests.Session()
                continue
            latencies[i].append(time.perf_counter() - t)
            if not 200 <= r.status_code < 300:
                refused[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop.append(time.monotonic() + seconds)
    started = time.monotonic()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    flat = [x for per in latencies for x in per]
    if not flat:
        return Row(0.0, float("nan"), float("nan"), sum(errors), sum(refused))
    return Row(
        len(flat) / elapsed,
        statistics.median(flat) * 1000,
        percentile(flat, 0.99) * 1000,
        sum(errors),
        sum(refused),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--clients", default="1,8,64,200")
    args = parser.parse_args()

    from local.client import User
    from local.runtime import LocalBackend

    backend = LocalBackend(port=0)
    backend.start()
    try:
        user = User.sign_up(backend)
        user.agree()
        style = user.styles()[0]["resourceId"]
        auth = {"Authorization": user.token}
        routes = [
            ("GET /config.json", "GET", f"{backend.base_url}/config.json", {}, None),
            ("GET /prod/agree", "GET", f"{user.api_url}/agree", auth, None),
            (
                "POST /prod/apis/images/upload",
                "POST",
                f"{user.api_url}/apis/images/upload",
                auth,
                {"contentType": "image/jpeg", "resourceIds": [style]},
            ),
        ]
        for _, method, url, headers, body in routes:  # warm workers and connections
            measure(method, url, headers, body, 2, 1.0)
        print(f"local API, {args.seconds:.0f} s per measurement, CPU: {os.cpu_count()} cores")
        print(
            f"{'route':30s} {'clients':>7s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s}"
            f" {'conn err':>8s} {'non-2xx':>8s} {'vs floor':>8s}"
        )
        for clients in [int(c) for c in args.clients.split(",")]:
            floor = None
            for name, method, url, headers, body in routes:
                row = measure(method, url, headers, body, clients, args.seconds)
                floor = floor if floor is not None else row.rps
                ratio = row.rps / floor if floor else float("nan")
                print(
                    f"{name:30s} {clients:7d} {row.rps:8.1f} {row.p50_ms:8.2f} {row.p99_ms:8.2f}"
                    f" {row.errors:8d} {row.refused:8d} {ratio:8.2f}",
                    flush=True,
                )
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
