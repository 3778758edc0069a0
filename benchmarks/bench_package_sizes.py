"""Unzipped size of what each FaceFlow step imports, against Lambda's 250 MB zip limit; and the
face crop's real layers.

    .venv/bin/python benchmarks/bench_package_sizes.py [--layers]

Sizes are the installed files of each distribution in this virtualenv (its RECORD), i.e. what a
layer or zip would hold unzipped (cp311 manylinux wheels here; cp312 ones differ by a few MB).
Each step's set is what its modules import (faceflow.domain.ingest/dedupe, facekit.analysis,
faceflow.domain.clustering/people), with their dependencies.

--layers bundles SharedLayer and ImagingLayer as synth does (pip for python3.12 manylinux, the
pinned models) and prints what FaceCropFunction holds unzipped, folder by folder.
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
        "pillow-heif",
        "imagehash",
        "pywavelets",
        "scipy",
    ],
    "dedupe (pHash candidates, histogram, SSIM)": [
        "numpy",
        "pillow",
        "pillow-heif",
        "scikit-image",
        "scipy",
        "imagehash",
        "pywavelets",
        "lazy-loader",
        "networkx",
        "imageio",
        "tifffile",
    ],
    "detect+align+embed (YuNet on onnxruntime, SFace on OpenCV)": [
        "numpy",
        "pillow",
        "pillow-heif",
        "onnxruntime",
        "opencv-python-headless",
    ],
    "styling face crop (YuNet on onnxruntime)": ["numpy", "pillow", "pillow-heif", "onnxruntime"],
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


def _tree_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def layers() -> None:
    """FaceCropFunction's code + SharedLayer + ImagingLayer, bundled for real into a temp dir."""
    import os
    import tempfile

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root), str(root / "lambda" / "shared")]
    from stacks.shared import bundling

    with tempfile.TemporaryDirectory() as tmp:
        shared, imaging = Path(tmp, "shared"), Path(tmp, "imaging")
        bundling.bundle_shared_layer(shared)
        bundling.bundle_imaging_layer(imaging)
        code = _tree_mb(root / "lambda" / "image_processing")
        print("FaceCropFunction unzipped (MiB; Lambda's limit is 250 MiB, code + layers):")
        parts = {"function code": code, "SharedLayer": _tree_mb(shared)}
        for folder in sorted((imaging / "python").iterdir()):
            if folder.is_dir() and not folder.name.endswith(".dist-info"):
                parts[f"ImagingLayer python/{folder.name}"] = _tree_mb(folder)
        parts["ImagingLayer face_models"] = _tree_mb(imaging / "face_models")
        rest = _tree_mb(imaging) - sum(v for k, v in parts.items() if k.startswith("Imaging"))
        parts["ImagingLayer other (dist-info, modules)"] = rest
        for name, size in parts.items():
            print(f"  {name:<44} {size:7.1f}")
        total = sum(parts.values())
        print(f"  {'total':<44} {total:7.1f}  = {total / 250:.0%} of 250 MiB")


def main() -> int:
    if "--layers" in sys.argv:
        layers()
        return 0
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
