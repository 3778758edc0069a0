"""Both trainings run as a SageMaker training job runs them (a fresh `python -m faceflow_models
train` process, channels and hyperparameters.json under the job's paths) on real faces from
registry packages, tiny, on CPU; the exports are then served over SageMaker's serving contract."""

from __future__ import annotations

import base64
import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

import faceflow_smoke as smoke
from faceflow_models.serving import ServingApp, create_server
from tests.prerequisites import require

pytestmark = [pytest.mark.training, pytest.mark.slow]


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    require(smoke.available(), "the registry face photos (scripts/fetch_photos.py)")
    return smoke.prepare(tmp_path_factory.mktemp("faceflow-data"))


def train(tmp_path_factory, name: str, train: Path, hyperparameters: dict, validation=None):
    root = tmp_path_factory.mktemp(name)
    env = smoke.training_env(root, train, hyperparameters, validation)
    done = smoke.run_training(env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not (root / "output" / "failure").exists()
    metrics = json.loads((root / "output" / "data" / "metrics.json").read_text())
    return root, metrics, done.stdout


@pytest.fixture(scope="module")
def detection_job(trees, tmp_path_factory):
    return train(
        tmp_path_factory,
        "det-job",
        trees["detection_train"],
        smoke.TINY_DETECTION,
        trees["detection_validation"],
    )


@pytest.fixture(scope="module")
def embedding_job(trees, tmp_path_factory):
    return train(tmp_path_factory, "emb-job", trees["embedding_train"], smoke.TINY_EMBEDDING)


def test_detection_training_loss_falls_and_the_export_is_written(detection_job):
    root, metrics, stdout = detection_job
    assert metrics["steps"] == int(smoke.TINY_DETECTION["steps"])
    assert metrics["loss_end"] < metrics["loss_start"], metrics
    assert "train_loss=" in stdout and "validation_loss=" in stdout  # the job's metric regexes
    assert np.isfinite(metrics["validation_loss"])
    meta = json.loads((root / "model" / "model.json").read_text())
    assert meta["task"] == "detection" and (root / "model" / meta["file"]).is_file()


def test_embedding_training_loss_falls_and_the_export_is_written(embedding_job, trees):
    root, metrics, _ = embedding_job
    assert metrics["loss_end"] < 0.8 * metrics["loss_start"], metrics
    assert metrics["identities"] == len(list(trees["embedding_train"].iterdir()))
    meta = json.loads((root / "model" / "model.json").read_text())
    assert (meta["task"], meta["dimension"]) == ("embedding", 512)


class Endpoint:
    """The serving app on 127.0.0.1, as the endpoint's container runs it."""

    def __init__(self, model_dir: Path) -> None:
        self.app = ServingApp(model_dir)
        self.server = create_server(self.app, host="127.0.0.1", port=0, threads=2)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        assert requests.get(f"{self.url}/ping", timeout=10).status_code == 503  # still loading
        self.app.load()
        return self

    def __exit__(self, *exc) -> None:
        # Closing sockets under a running select() hands it a dead fd: ask the loop (through
        # its trigger) to empty its map, which ends it, then close.
        self.server.trigger.pull_trigger(self.server._map.clear)
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
        self.server.close()
        self.server.task_dispatcher.shutdown()

    def post(self, body: bytes, content_type: str) -> requests.Response:
        return requests.post(
            f"{self.url}/invocations", data=body, headers={"Content-Type": content_type}, timeout=60
        )


def png(path: Path) -> bytes:
    out = io.BytesIO()
    Image.open(path).save(out, format="PNG")
    return out.getvalue()


def test_the_embedding_export_serves_unit_512_d_vectors_over_the_serving_contract(
    embedding_job, trees
):
    root, _, _ = embedding_job
    crops = sorted(trees["evaluation"].rglob("*.png"))
    with Endpoint(root / "model") as endpoint:
        ping = requests.get(f"{endpoint.url}/ping", timeout=10)
        assert ping.status_code == 200 and ping.json()["task"] == "embedding"

        one = endpoint.post(png(crops[0]), "image/png")
        assert one.status_code == 200, one.text
        (vector,) = one.json()["embeddings"]
        assert len(vector) == one.json()["dimension"] == 512
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)

        images = [base64.b64encode(c.read_bytes()).decode() for c in crops[:4]]
        batch = endpoint.post(json.dumps({"images": images}).encode(), "application/json")
        vectors = np.array(batch.json()["embeddings"])
        assert vectors.shape == (4, 512)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        np.testing.assert_allclose(vectors[0], vector, atol=1e-4)  # batched or alone: the same

        bad = endpoint.post(b"not an image at all", "image/jpeg")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "UNREADABLE_IMAGE"
        wrong = endpoint.post(b"{}", "text/plain")
        assert wrong.status_code == 415 and wrong.json()["error"]["message"]
        empty = endpoint.post(json.dumps({"images": []}).encode(), "application/json")
        assert empty.status_code == 400


def test_the_detection_export_serves_boxes_inside_the_photo(detection_job):
    root, _, _ = detection_job
    photo = smoke.PHOTOS / "insightface_t1.jpg"
    with Endpoint(root / "model") as endpoint:
        response = endpoint.post(photo.read_bytes(), "image/jpeg")
        assert response.status_code == 200, response.text
        width, height = Image.open(photo).size
        for face in response.json()["faces"]:  # a tiny model may find none: shapes, not recall
            x1, y1, x2, y2 = face["box"]
            assert 0.5 <= face["score"] <= 1.0
            assert x1 < x2 and y1 < y2 and x2 > 0 and y2 > 0 and x1 < width and y1 < height
        crop = endpoint.post(json.dumps({"images": []}).encode(), "application/json")
        assert crop.status_code == 415


def test_evaluation_puts_the_trained_model_beside_the_default_on_labelled_pairs(
    embedding_job, trees, capsys
):
    from faceflow_models.evaluation import compare, print_report

    root, _, _ = embedding_job
    require((smoke.MODELS / "face_recognition_sface_2021dec_int8bq.onnx").is_file(), "SFace")
    default, trained = compare(root / "model", trees["evaluation"], smoke.MODELS)
    # 10 portraits of 5 people: 45 pairs, 8 of them the same person.
    assert (default.pairs, default.genuine_pairs) == (45, 8)
    assert (default.dimension, trained.dimension) == (128, 512)
    # The default tells these people apart (a model trained on millions of faces) …
    assert default.tar[0.1] >= 0.75 and default.auc > 0.9
    assert default.purity >= 0.9
    # … a 30-step model is only measured, not expected to: every figure is a valid rate.
    for value in (trained.auc, *trained.tar.values(), trained.purity, *trained.bcubed):
        assert 0.0 <= value <= 1.0
    print_report([default, trained])
    printed = capsys.readouterr().out
    assert "TAR@FAR=0.1" in printed and "embedding dimension (trained): 512" in printed
