"""Requests per second the local backend serves on a cheap API route, against its floor.

    .venv/bin/python benchmarks/bench_local_api.py [--seconds 5] [--clients 1,8]

Route: GET /prod/agree (Cognito JWT verified, proxy event, one function invocation in a worker
process, one DynamoDB GetItem in moto). Floor: GET /config.json on the same port (no function,
no AWS call). Prints median latency and requests/s per client count, and the route/floor ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), "lambda/shared"]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def measure(url: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[float, float]:
    """(requests per second, median latency in ms) with `clients` concurrent keep-alive clients."""
    import requests

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            t = time.perf_counter()
            r = session.get(url, headers=headers, timeout=30)
            latencies[i].append(time.perf_counter() - t)
            if r.status_code != 200:  # threads swallow exceptions: record, check after join
                errors.append(f"{url}: {r.status_code} {r.text[:200]}")
                return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if errors:
        raise SystemExit(f"not measured, a request failed: {errors[0]}")
    flat = [x for per in latencies for x in per]
    return len(flat) / elapsed, statistics.median(flat) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", default="1,8")
    args = parser.parse_args()

    from local.client import User
    from local.runtime import LocalBackend

    backend = LocalBackend(port=0)
    backend.start()
    try:
        user = User.sign_up(backend)
        user.agree()
        route = f"{user.api_url}/agree"
        auth = {"Authorization": user.token}
        floor_url = f"{backend.base_url}/config.json"
        measure(route, auth, 2, 1.0)  # warm the function's workers and connections
        print(f"local API, {args.seconds:.0f} s per measurement, CPU: {os.cpu_count()} cores")
        for clients in [int(c) for c in args.clients.split(",")]:
            rps, p50 = measure(route, auth, clients, args.seconds)
            floor_rps, floor_p50 = measure(floor_url, {}, clients, args.seconds)
            print(
                f"clients={clients:2d}  GET /prod/agree {rps:7.1f} req/s  median {p50:6.2f} ms"
                f"  |  GET /config.json {floor_rps:7.1f} req/s  median {floor_p50:6.2f} ms"
                f"  |  route/floor throughput {rps / floor_rps:.2f}"
            )
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
