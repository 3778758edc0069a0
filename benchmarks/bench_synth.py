"""How long `cdk synth` takes, and how big each Lambda's code + layers are unzipped.

Run by hand (`make bench`, or `.venv/bin/python benchmarks/bench_synth.py [runs]`). Prints:
- the CLI's `cdk synth` with local bundling into a fresh cloud assembly (pip for the Lambda
  platform, copying the container source): median of N runs;
- the same CLI synth reusing the assembly (bundles are cached by asset hash): median of N;
- the in-process synth the unit tests do once per session (bundling skipped): median of N;
- each function's code asset + layers, unzipped, against Lambda's 250 MB limit.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
LIMIT = 250 * 1024 * 1024
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def cli_synth(outdir: Path) -> list[str]:
    return [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir)]


IN_PROCESS = """
import sys, tempfile
sys.path.insert(0, '.')
import aws_cdk as cdk
from app import build_app
app = cdk.App(outdir=tempfile.mkdtemp(), context={'aws:cdk:bundling-stacks': []})
build_app(app).synth()
"""


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def function_sizes(outdir: Path) -> dict[str, int]:
    template = json.loads((outdir / "Functions.template.json").read_text())["Resources"]
    template.update(json.loads((outdir / "FaceChain.template.json").read_text())["Resources"])

    def asset(content: dict) -> Path:
        return outdir / f"asset.{content['S3Key'].removesuffix('.zip')}"

    sizes = {}
    for logical_id, res in template.items():
        props = res["Properties"]
        if res["Type"] != "AWS::Lambda::Function" or "Layers" not in props:
            continue
        layers = [template[ref["Ref"]]["Properties"]["Content"] for ref in props["Layers"]]
        sizes[logical_id] = size(asset(props["Code"])) + sum(size(asset(c)) for c in layers)
    for logical_id, res in template.items():
        if res["Type"] == "AWS::Lambda::LayerVersion":
            sizes[f"(layer) {logical_id}"] = size(asset(res["Properties"]["Content"]))
    return sizes


def main(runs: int) -> None:
    if not CDK.exists():
        sys.exit("node_modules/.bin/cdk missing: run `make synth` once (npm ci)")
    cold, warm, in_process = [], [], []
    workdir = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        for i in range(runs):
            outdir = workdir / f"cold{i}"
            cold.append(timed(cli_synth(outdir)))
            warm.append(timed(cli_synth(outdir)))
            in_process.append(timed([sys.executable, "-c", IN_PROCESS]))
        cold_median, warm_median = statistics.median(cold), statistics.median(warm)
        process_median = statistics.median(in_process)
        print(f"cdk synth, fresh assembly (local bundling): median {cold_median:.1f} s of {runs}")
        print(f"cdk synth, bundles cached:                  median {warm_median:.1f} s of {runs}")
        print(
            f"in-process synth, bundling skipped (tests): median {process_median:.1f} s of {runs}"
        )
        print(f"ratio fresh / cached: {cold_median / warm_median:.2f}")
        print(f"ratio cached CLI / in-process: {warm_median / process_median:.2f}")
        print("unzipped size (code + layers) vs Lambda's 250 MB limit:")
        for name, value in sorted(function_sizes(workdir / "cold0").items()):
            print(f"  {name:55s} {value / 1e6:7.1f} MB  ({100 * value / LIMIT:4.1f} %)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
