"""Layers follow the packages: each function imports with exactly what its layers ship."""

from __future__ import annotations

import os
import subprocess
import sys

from stacks.shared.bundling import (
    FACE_PACKAGE,
    _copy_files,
    bundle_imaging_modules,
    face_modules,
    shared_layer_sources,
)

BLOCKED = "import sys\nfor m in ('numpy', 'PIL', 'dlib', 'cv2'): sys.modules[m] = None\n"


def _shared_layer_packages(output_dir) -> None:
    """The shared layer's own packages, as bundle_shared_layer lays them out. Its pinned wheels
    (Powertools, pydantic: built for python3.12) cannot load in this interpreter; its identical
    pins from requirements.txt stand in for them."""
    _copy_files(shared_layer_sources(), output_dir / "python")


def _imports(path: list[str], modules: list[str], *, block_imaging: bool) -> None:
    code = (BLOCKED if block_imaging else "") + "".join(f"import {m}\n" for m in modules)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd="/",  # nothing of the repository on sys.path but what PYTHONPATH names
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_facekit_splits_by_what_its_modules_import():
    pure, imaging = face_modules()
    assert {p.name for p in pure} >= {"__init__.py", "errors.py", "formats.py"}
    assert {p.name for p in imaging} >= {"imaging.py", "faces.py"}
    assert sorted(pure + imaging) == sorted(FACE_PACKAGE.rglob("*.py"))


def test_functions_without_the_imaging_layer_import_from_the_shared_layer_alone(tmp_path):
    _shared_layer_packages(tmp_path)
    shipped = tmp_path / "python"
    assert (shipped / "style_backend" / "config.py").is_file()
    assert (shipped / "facekit" / "formats.py").is_file()
    assert not (shipped / "facekit" / "imaging.py").exists()  # ships in the imaging layer
    repo = FACE_PACKAGE.parents[2]
    for group, modules in {
        "apis": ["agreement", "styles", "upload", "images", "erasure"],
        "image_processing": ["face_swap", "face_swap_completion", "pipeline_dead_letters"],
        "facechain_codebuild": ["build_trigger", "build_status", "build_events"],
    }.items():
        _imports([str(repo / "lambda" / group), str(shipped)], modules, block_imaging=True)


def test_the_face_crop_imports_from_both_layers(tmp_path):
    """Lambda extracts a function's layers into one /opt: the two parts of facekit meet there."""
    opt = tmp_path / "opt"
    _shared_layer_packages(opt)
    shared = {p.relative_to(opt) for p in opt.rglob("*") if p.is_file()}
    bundle_imaging_modules(opt)  # its wheels come from this interpreter here
    imaging = {p.relative_to(opt) for p in opt.rglob("*") if p.is_file()} - shared
    assert {p.name for p in imaging} >= {"imaging.py", "faces.py"}  # nothing overwritten
    repo = FACE_PACKAGE.parents[2]
    path = [str(repo / "lambda" / "image_processing"), str(opt / "python")]
    _imports(path, ["face_crop"], block_imaging=False)
