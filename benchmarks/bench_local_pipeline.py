"""Upload → every style complete, on the local backend with the CPU swap engine.

    .venv/bin/python benchmarks/bench_local_pipeline.py [--runs 10]

One user uploads scikit-image's astronaut (512×512 JPEG) asking for the first 4 seeded styles
(the most one upload takes), then polls progress every 100 ms until the process is terminal;
repeated `--runs` times after one warm-up run. Prints each run and the median, min and max
seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), "lambda/shared"]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def one_run(user, photo: bytes, styles: list[str]) -> float:
    started = time.perf_counter()
    process_id = user.upload(photo, styles)
    while True:
        state = user.progress(process_id)
        if state["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if state["status"] != "COMPLETED":
        raise SystemExit(f"run failed: {state}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from skimage import data

    from local.client import User, jpeg
    from local.runtime import LocalBackend
    from style_backend.domain.uploads import MAX_STYLES_PER_UPLOAD

    backend = LocalBackend(port=0)
    backend.start()
    try:
        if backend.container.problem:
            print(f"NOT MEASURED: {backend.container.problem}")
            return 1
        user = User.sign_up(backend)
        user.agree()
        styles = [s["resourceId"] for s in user.styles()][:MAX_STYLES_PER_UPLOAD]
        photo = jpeg(data.astronaut())
        one_run(user, photo, styles)  # warm-up: worker init phases, face models
        times = []
        for i in range(args.runs):
            times.append(one_run(user, photo, styles))
            print(f"run {i + 1:2d}: {times[-1]:.2f} s")
        print(
            f"upload → {len(styles)} styles complete (CPU engine, {os.cpu_count()} cores): "
            f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
            f"max {max(times):.2f} s over {len(times)} runs"
        )
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
