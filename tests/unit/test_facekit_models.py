"""facekit's models all follow facekit.models.Model: each declares the files it reads, loads on
first use (once, however many threads ask at once), and `unload()` lets its memory go until the
next use loads it again, with the same results on real photos. facekit stays a leaf package."""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from facekit import analysis, embedding, faces, mesh, yunet
from facekit.imaging import decode_image
from facekit.models import Model, ModelMissing
from local import photos
from local.photos import astronaut
from tests.prerequisites import require

FACEKIT = Path(faces.__file__).parent
THREADS = 8


def _models() -> dict[str, Model]:
    """Every Model instance facekit's modules hold, by `module.NAME`, and the default embedder."""
    found = {
        f"{module.__name__}.{name}": value
        for module in (yunet, mesh, faces, embedding)
        for name, value in vars(module).items()
        if isinstance(value, Model)
    }
    found["get_embedder()"] = embedding.get_embedder(embedding.DEFAULT_EMBEDDER)
    return found


MODELS = _models()


@pytest.fixture(autouse=True)
def models_fetched():
    try:
        for model in MODELS.values():
            model.paths()
    except ModelMissing as missing:
        require(False, f"the model files (scripts/fetch_photos.py): {missing}")


def _photo(name: str) -> np.ndarray:
    path = photos.PHOTO_CACHE / name
    require(path.exists(), f".cache/photos/{name}")
    return decode_image(path.read_bytes(), max_pixels=50_000_000, max_bytes=1 << 26).rgb


def test_every_model_of_facekit_is_found():
    assert set(MODELS) == {
        "facekit.yunet.DETECTOR",
        "facekit.mesh.LANDMARK_NETWORK",
        "facekit.mesh.TOPOLOGY",
        "facekit.faces.HOG_DETECTOR",
        "facekit.faces.SHAPE_PREDICTOR",
        "facekit.faces.DESCRIPTOR",
        "get_embedder()",
    }
    assert isinstance(MODELS["get_embedder()"], embedding.SFaceEmbedder)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_lists_the_files_it_reads_and_they_exist(name):
    model = MODELS[name]
    if name == "facekit.faces.HOG_DETECTOR":
        assert model.files == ()  # compiled into dlib
        return
    paths = model.paths()
    assert model.files and [p.name for p in paths] == list(model.files)
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)


def test_the_files_the_crops_models_read_are_the_pinned_ones():
    from facekit import model_files

    declared = {*yunet.DETECTOR.files, *embedding.SFaceEmbedder.files}
    assert declared == set(model_files.FILES)  # what the imaging layer and set-up ship


def test_importing_facekit_loads_no_model():
    code = (
        "import sys\n"
        "from facekit import analysis, embedding, faces, mesh, pose, swap_quality, yunet\n"
        "from facekit.models import Model\n"
        "held = [m for mod in (yunet, mesh, faces, embedding) for m in vars(mod).values()"
        " if isinstance(m, Model)]\n"
        "assert len(held) == 6 and not any(m.is_loaded for m in held), held\n"
        "assert not embedding.get_embedder().is_loaded\n"
        "assert not {'cv2', 'dlib', 'onnxruntime'} & set(sys.modules), sorted(sys.modules)\n"
    )
    shared = FACEKIT.parent
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=shared,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(shared), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr


def test_a_model_loads_on_its_first_use_and_not_before():
    for model in MODELS.values():
        model.unload()
    rgb = _photo("insightface_t1.jpg")
    embedder = embedding.SFaceEmbedder()
    assert not embedder.is_loaded
    found = analysis.find_faces(rgb, embedder=embedder)  # detects and aligns: only YuNet runs
    loaded = {name for name, model in MODELS.items() if model.is_loaded}
    assert found and loaded == {"facekit.yunet.DETECTOR"} and not embedder.is_loaded
    analysis.embed_faces(found, embedder)
    assert embedder.is_loaded
    loaded = {name for name, model in MODELS.items() if model.is_loaded}
    assert loaded == {"facekit.yunet.DETECTOR"}  # neither Face Mesh nor dlib


class _CountedLoads:
    """Stands in for a Model class's _load: counts the calls and makes each slow, so that
    threads racing past a missing lock would each load."""

    def __init__(self, model_class: type[Model], monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._count_lock = threading.Lock()
        load = model_class._load

        def counted(model: Model):
            with self._count_lock:
                self.count += 1
            time.sleep(0.05)
            return load(model)

        monkeypatch.setattr(model_class, "_load", counted)


def _at_once(function, threads: int = THREADS) -> list:
    """`function()` from several threads released together."""
    start = threading.Barrier(threads)

    def call(_):
        start.wait()
        return function()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(call, range(threads)))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_threads_asking_at_once_load_a_model_once(name, monkeypatch):
    model_class = type(MODELS[name])
    loads = _CountedLoads(model_class, monkeypatch)
    fresh = model_class()
    got = _at_once(fresh.get)
    assert loads.count == 1
    assert all(g is got[0] for g in got) and got[0] is not None


def test_threads_detecting_at_once_load_yunet_once(monkeypatch):
    rgb = _photo("insightface_t1.jpg")
    expected = [f.as_item() for f in yunet.detect_faces(rgb)]
    yunet.DETECTOR.unload()
    loads = _CountedLoads(yunet.YuNetNetwork, monkeypatch)
    found = _at_once(lambda: [f.as_item() for f in yunet.detect_faces(rgb)])
    assert loads.count == 1
    assert all(f == expected for f in found) and len(expected) == 6


def _dropped(model: Model) -> bool:
    """Unload `model`: whether what it held is then held by nothing but this function."""
    held = model.get()
    model.unload()
    gc.collect()
    return not model.is_loaded and sys.getrefcount(held) == 2  # `held` and the call's argument


@pytest.mark.parametrize("name", sorted(MODELS))
def test_unload_lets_go_of_what_was_loaded_and_the_next_use_loads_again(name):
    model = MODELS[name]
    assert _dropped(model)
    assert model.get() is not None and model.is_loaded


def test_yunet_and_sface_give_the_same_results_after_an_unload():
    rgb = _photo("insightface_t1.jpg")
    embedder = MODELS["get_embedder()"]
    before = analysis.find_faces(rgb)
    vectors = analysis.embed_faces(before)
    old_session, old_net = yunet.DETECTOR.get(), embedder.get()
    yunet.DETECTOR.unload()
    embedder.unload()
    after = analysis.find_faces(rgb)
    assert yunet.DETECTOR.get() is not old_session
    assert [f.as_item() for f in after] == [f.as_item() for f in before]
    assert np.array_equal(analysis.embed_faces(after), vectors)
    assert embedder.get() is not old_net


def test_face_mesh_gives_the_same_mesh_after_an_unload():
    rgb = astronaut()
    face = yunet.detect_faces(rgb)[0]
    before = mesh.face_mesh(rgb, face.landmarks, face.box)
    triangles = mesh.triangles()
    old_network, old_topology = mesh.LANDMARK_NETWORK.get(), mesh.TOPOLOGY.get()
    mesh.LANDMARK_NETWORK.unload()
    mesh.TOPOLOGY.unload()
    after = mesh.face_mesh(rgb, face.landmarks, face.box)
    assert np.array_equal(after.points, before.points) and after.presence == before.presence
    assert np.array_equal(mesh.triangles(), triangles)
    assert mesh.LANDMARK_NETWORK.get() is not old_network
    assert mesh.TOPOLOGY.get() is not old_topology


def test_dlib_gives_the_same_faces_and_descriptor_after_an_unload():
    rgb = astronaut()
    before = faces.detect_faces(rgb)
    descriptor = faces.identity_descriptor(rgb, before[0])
    for model in (faces.HOG_DETECTOR, faces.SHAPE_PREDICTOR, faces.DESCRIPTOR):
        model.unload()
    after = faces.detect_faces(rgb)
    assert [(f.box, f.score) for f in after] == [(f.box, f.score) for f in before]
    assert np.array_equal(after[0].landmarks, before[0].landmarks)
    assert np.array_equal(faces.identity_descriptor(rgb, after[0]), descriptor)


def _imported_roots(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(FACEKIT.rglob("*.py")), ids=lambda p: p.name)
def test_facekit_imports_neither_product(path):
    assert not _imported_roots(path) & {"style_backend", "faceflow", "boto3", "botocore"}
