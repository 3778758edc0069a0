"""Throughput of the local DynamoDB (moto's server as `local/motoserver.py` runs it) under the album
pipeline's pattern: writes and queries on one partition at once, by number of clients.

    .venv/bin/python benchmarks/bench_local_dynamodb.py [--calls 1000] [--items 500]
                                                        [--clients 1,8,32]

Each row: `--calls` calls (half PutItem, half Query on the partition or its GSI) from that many
threads, on a fresh table whose partition holds `--items` items; botocore's retries are off, so
`5xx` counts every server error (moto's DynamoDB is not thread-safe: the runtime serialises its
requests). Prints calls/s, p50 and p99 latency. Python's default thread switch interval (5 ms).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), "lambda/shared"]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from local.motoserver import MotoServer  # noqa: E402
from tests.dynamodb_load import one_partition_load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--clients", default="1,8,32")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # a line per request otherwise
    server = MotoServer()
    server.start()
    failed = 0
    try:
        print(f"{'clients':>7} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'5xx':>4}")
        for clients in (int(c) for c in args.clients.split(",")):
            r = one_partition_load(server.url, clients, args.calls, args.items)
            failed += len(r.server_errors)
            print(
                f"{clients:>7} {r.per_second:>8.0f} {r.percentile_ms(0.5):>7.1f}"
                f" {r.percentile_ms(0.99):>7.1f} {len(r.server_errors):>4}"
            )
    finally:
        server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
