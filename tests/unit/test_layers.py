"""Layers follow the packages: each function imports with exactly what its layers ship."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from stacks.shared.bundling import (
    FACE_PACKAGE,
    bundle_face_models,
    bundle_imaging_modules,
    bundle_shared_layer,
    face_modules,
)
from tests.fresh_python import assert_runs, blocking, importing

BLOCKED = blocking("numpy", "PIL", "dlib", "cv2")


def _native_for_this_interpreter(shipped: Path) -> None:
    """The layer's compiled wheels (pydantic_core) are CPython 3.12's, the Lambda runtime's; an
    interpreter of another version imports its own copy of those packages (from its
    site-packages) instead. Every pure module still comes from the layer."""
    if sys.version_info[:2] == (3, 12):
        return
    for package in [p for p in shipped.iterdir() if p.is_dir()]:
        if any(package.rglob("*.so")):
            shutil.rmtree(package)


def _imports(path: list[str], modules: list[str], *, block_imaging: bool) -> None:
    code = (BLOCKED if block_imaging else "") + importing(modules)
    assert_runs(code, path, cwd="/")  # nothing of the repository on sys.path but PYTHONPATH


def test_facekit_splits_by_what_its_modules_import():
    pure, imaging = face_modules()
    assert {p.name for p in pure} >= {"__init__.py", "errors.py", "formats.py"}
    assert {p.name for p in imaging} >= {"imaging.py", "faces.py"}
    assert sorted(pure + imaging) == sorted(FACE_PACKAGE.rglob("*.py"))


def test_functions_without_the_imaging_layer_import_from_the_shared_layer_alone(tmp_path):
    bundle_shared_layer(tmp_path)
    shipped = tmp_path / "python"
    assert (shipped / "style_backend" / "config.py").is_file()
    assert (shipped / "facekit" / "formats.py").is_file()
    assert not (shipped / "facekit" / "imaging.py").exists()  # ships in the imaging layer
    faceflow = shipped / "faceflow"
    assert (faceflow / "storage" / "albums.py").is_file()  # the user erasure erases albums
    assert not (faceflow / "domain" / "ingest.py").exists()  # imports imaging packages
    assert (faceflow / "domain" / "signing.py").is_file()  # cryptography ships here too
    assert (faceflow / "edge" / "exporter.py").is_file()  # a zip function: stdlib zipfile
    assert (faceflow / "domain" / "archive.py").is_file()  # the ZIP's names and entries
    assert not (faceflow / "edge" / "shares.py").exists()  # asks the people backend
    for package in ("domain", "storage", "edge"):  # every subpackage's __init__ ships
        assert (faceflow / package / "__init__.py").is_file()
    assert (shipped / "cryptography").is_dir()
    _native_for_this_interpreter(shipped)
    repo = FACE_PACKAGE.parents[2]
    for group, modules in {
        "apis": ["agreement", "styles", "upload", "images", "erasure"],
        "albums": ["album_api"],
        "sharing": ["share_steps", "share_keys"],  # share_api: the FaceFlow image
        "live": ["connections", "publisher"],
        "image_processing": ["face_swap", "face_swap_completion"],
        "facechain_codebuild": ["build_trigger", "build_status", "build_events"],
    }.items():
        _imports([str(repo / "lambda" / group), str(shipped)], modules, block_imaging=True)


def test_the_face_crop_imports_from_both_layers(tmp_path):
    """Lambda extracts a function's layers into one /opt: the two parts of facekit meet there."""
    opt = tmp_path / "opt"
    bundle_shared_layer(opt)
    _native_for_this_interpreter(opt / "python")
    shared = {p.relative_to(opt) for p in opt.rglob("*") if p.is_file()}
    bundle_imaging_modules(opt)  # its wheels come from this interpreter here
    models = bundle_face_models(opt)
    imaging = {p.relative_to(opt) for p in opt.rglob("*") if p.is_file()} - shared
    assert {p.name for p in imaging} >= {"imaging.py", "faces.py", "yunet.py"}  # none overwritten
    repo = FACE_PACKAGE.parents[2]
    path = [str(repo / "lambda" / "image_processing"), str(opt / "python")]
    # Its init loads YuNet from the layer's models, with neither dlib nor OpenCV importable.
    code = blocking("dlib", "cv2") + "import face_crop\nfrom facekit import faces, yunet\n"
    assert_runs(
        code + "assert yunet.DETECTOR.get()",
        path,
        env={**os.environ, "FACE_MODELS_DIR": str(models)},
        cwd="/",
    )
