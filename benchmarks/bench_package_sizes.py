"""Unzipped size of what each FaceFlow step imports, against Lambda's 250 MB zip limit.

    .venv/bin/python benchmarks/bench_package_sizes.py

Sizes are the installed files of each distribution in this virtualenv (its RECORD), i.e. what a
layer or zip would hold unzipped (cp311 manylinux wheels here; cp312 ones differ by a few MB).
Each step's set is what its modules import (faceflow.ingest/dedupe, facekit.analysis,
faceflow.clustering/people), with their dependencies.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

LAMBDA_ZIP_LIMIT_MB = 250

STEPS = {
    "ingest (decode, EXIF, SHA-256, pHash, thumbnail)": [
        "numpy",
        "pillow",
        "imagehash",
        "pywavelets",
        "scipy",
    ],
    "dedupe (pHash candidates, histogram, SSIM)": [
        "numpy",
        "pillow",
        "scikit-image",
        "scipy",
        "imagehash",
        "pywavelets",
        "lazy-loader",
        "networkx",
        "imageio",
        "tifffile",
    ],
    "detect+align+embed with OpenCV (YuNet, SFace)": ["numpy", "pillow", "opencv-python-headless"],
    "cluster + assign (scikit-learn, FAISS)": [
        "numpy",
        "scipy",
        "scikit-learn",
        "faiss-cpu",
        "joblib",
        "threadpoolctl",
    ],
}


def size_mb(dist: str) -> float:
    d = metadata.distribution(dist)
    total = 0
    for f in d.files or []:
        path = Path(d.locate_file(f))
        if path.is_file():
            total += path.stat().st_size
    return total / 1e6


def main() -> int:
    names = sorted({n for deps in STEPS.values() for n in deps})
    sizes = {}
    for name in names:
        try:
            sizes[name] = size_mb(name)
        except metadata.PackageNotFoundError:
            print(f"not installed: {name}", file=sys.stderr)
            sizes[name] = 0.0
    for name in names:
        print(f"  {name:<24} {sizes[name]:7.1f} MB")
    for step, deps in STEPS.items():
        total = sum(sizes[d] for d in deps)
        verdict = "fits a zip function" if total < LAMBDA_ZIP_LIMIT_MB else "does NOT fit a zip"
        print(f"{step:<52} {total:7.1f} MB  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
