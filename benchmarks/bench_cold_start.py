"""Cold-start import time and unzipped deployment size of every Lambda function.

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 7] [--against DIR]

`--against DIR` (another checkout, e.g. `git archive c0aa739 | tar -x -C DIR`) measures that tree's
import times interleaved with this one's, run by run, so both see the same machine load.

Import time (CPU seconds): a fresh interpreter per run imports the function's handler module with
the Lambda's sys.path (its code folder, then the layers' packages, then site-packages), median over
runs;
init work the module does at import (dlib's models for FaceCrop) counts, as it does on Lambda.
Size: the function's code folder plus every layer it uses, bundled as `cdk synth` bundles them
(stacks/shared/bundling.py, pip for python3.12 manylinux), against Lambda's 250 MB unzipped limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "shared")]

LAMBDA_LIMIT_MB = 250
# function id → (code folder under lambda/, handler module, layers beside the shared one)
FUNCTIONS = {
    "AgreementFunction": ("apis", "agreement", ()),
    "StylesFunction": ("apis", "styles", ()),
    "UploadFunction": ("apis", "upload", ()),
    "ImagesFunction": ("apis", "images", ()),
    "ErasureFunction": ("apis", "erasure", ()),
    "FaceCropFunction": ("image_processing", "face_crop", ("imaging",)),
    "FaceSwapFunction": ("image_processing", "face_swap", ()),
    "FaceSwapCompletionFunction": ("image_processing", "face_swap_completion", ()),
    "BuildTriggerFunction": ("facechain_codebuild", "build_trigger", ()),
    "BuildStatusFunction": ("facechain_codebuild", "build_status", ()),
    "BuildEventsFunction": ("facechain_codebuild", "build_events", ()),
}
# CPU time (user + system) of the import, not wall time: on a shared machine wall time mostly
# measures the other processes; a Lambda's init has its own vCPU share.
_IMPORT = (
    "import sys, time; sys.path[:0] = {path!r}; t = time.process_time(); import {module}; "
    "print(time.process_time() - t)"
)


def import_seconds(
    group: str, module: str, runs: int, models_dir: Path, root: Path = ROOT
) -> list[float]:
    path = [str(root / "lambda" / group), str(root / "lambda" / "shared")]
    env = {
        **os.environ,
        "FACE_MODELS_DIR": str(models_dir),  # the imaging layer's, as on Lambda
        "AWS_DEFAULT_REGION": "us-west-2",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    }
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT.format(path=path, module=module)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return samples


def tree_bytes(folder: Path) -> int:
    return sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def bundled_layers(work: Path) -> dict[str, Path]:
    from stacks.shared import bundling

    layers = {}
    for name in ("shared", "imaging"):
        layers[name] = work / name
        layers[name].mkdir()
        getattr(bundling, f"bundle_{name}_layer")(layers[name])
    return layers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout, measured interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        layers = bundled_layers(Path(work))
        sizes = {name: tree_bytes(folder) for name, folder in layers.items()}
        print("layers (unzipped MB): " + ", ".join(f"{k} {v / 1e6:.2f}" for k, v in sizes.items()))
        print(f"runs per function: {args.runs}")
        against = f"{'other ms':>9} {'ratio':>6}" if args.against else ""
        print(f"{'function':28} {'import ms':>10} {against} {'unzipped MB':>12} {'of 250 MB':>10}")
        models = layers["imaging"] / "face_models"
        for function_id, (group, module, extra_layers) in FUNCTIONS.items():
            ours, theirs = [], []
            for _ in range(args.runs):  # interleaved: both trees see the same load
                ours += import_seconds(group, module, 1, models)
                if args.against:
                    theirs += import_seconds(group, module, 1, models, args.against.resolve())
            ms = statistics.median(ours) * 1000
            other = ""
            if theirs:
                them = statistics.median(theirs) * 1000
                other = f"{them:9.1f} {ms / them:6.2f}"
            total = tree_bytes(ROOT / "lambda" / group) + sizes["shared"]
            total += sum(sizes[layer] for layer in extra_layers)
            print(
                f"{function_id:28} {ms:10.1f} {other} {total / 1e6:12.2f} "
                f"{total / 1e6 / LAMBDA_LIMIT_MB:10.1%}"
            )


if __name__ == "__main__":
    main()
