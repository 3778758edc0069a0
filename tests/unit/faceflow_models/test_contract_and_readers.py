"""The SageMaker training contract, the data readers and failure reporting (no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from faceflow_models.__main__ import train_task
from faceflow_models.contract import TrainingEnvironment, parse_hyperparameters
from faceflow_models.detection.train import DetectionHyperparameters
from faceflow_models.detection.wider import read_wider, write_wider
from faceflow_models.embedding.identities import read_identities
from faceflow_models.embedding.train import EmbeddingHyperparameters
from faceflow_models.errors import DataError


def job(tmp_path, hyperparameters: dict, train=None) -> dict:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    train = train or tmp_path / "input" / "data" / "train"
    train.mkdir(parents=True, exist_ok=True)
    return {
        "SM_CHANNEL_TRAIN": str(train),
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DIR": str(tmp_path / "output"),
        "SM_INPUT_CONFIG_DIR": str(config),
    }


def test_environment_reads_channels_model_dir_and_the_hyperparameters_file(tmp_path):
    env = job(tmp_path, {"task": "embedding", "steps": "7"})
    (tmp_path / "val").mkdir()
    env["SM_CHANNEL_VALIDATION"] = str(tmp_path / "val")
    parsed = TrainingEnvironment.from_env(env)
    assert parsed.train == tmp_path / "input" / "data" / "train"
    assert parsed.validation == tmp_path / "val"
    assert parsed.model_dir == tmp_path / "model"
    assert parsed.hyperparameters == {"task": "embedding", "steps": "7"}


def test_sm_hps_wins_over_the_file_and_a_missing_validation_channel_is_none(tmp_path):
    env = job(tmp_path, {"steps": "7"})
    env["SM_HPS"] = json.dumps({"steps": 9})
    env["SM_CHANNEL_VALIDATION"] = str(tmp_path / "absent")
    parsed = TrainingEnvironment.from_env(env)
    assert parsed.hyperparameters == {"steps": 9}
    assert parsed.validation is None


def test_hyperparameters_arrive_as_strings_and_are_typed():
    hp = parse_hyperparameters(
        EmbeddingHyperparameters,
        {"task": "embedding", "steps": "12", "margin": "0.3", "layers": "[1, 2, 3, 4]"},
    )
    assert (hp.steps, hp.margin, hp.layers) == (12, 0.3, (1, 2, 3, 4))
    assert hp.scale == EmbeddingHyperparameters().scale  # unspecified: the default


@pytest.mark.parametrize(
    ("raw", "message"),
    [({"stepz": "1"}, "unknown hyperparameters: stepz"), ({"steps": "many"}, "steps: cannot read")],
)
def test_bad_hyperparameters_are_named(raw, message):
    with pytest.raises(DataError, match=message):
        parse_hyperparameters(DetectionHyperparameters, raw)


def test_an_unknown_task_fails_the_job_with_a_reason_in_the_failure_file(tmp_path):
    env = job(tmp_path, {"task": "segmentation"})
    assert train_task(env) == 2
    assert (
        "task must be one of detection, embedding" in (tmp_path / "output" / "failure").read_text()
    )


def test_a_missing_train_channel_fails_the_job_with_a_reason(tmp_path):
    env = job(tmp_path, {"task": "detection"})
    env["SM_CHANNEL_TRAIN"] = str(tmp_path / "nowhere")
    assert train_task(env) == 2
    assert "train channel" in (tmp_path / "output" / "failure").read_text()


def test_malformed_wider_annotations_fail_the_job_with_the_line(tmp_path):
    env = job(tmp_path, {"task": "detection", "steps": "1"})
    channel = tmp_path / "input" / "data" / "train"
    (channel / "images").mkdir()
    Image.new("RGB", (64, 64)).save(channel / "images" / "a.jpg")
    (channel / "wider_face_train_bbx_gt.txt").write_text("a.jpg\ntwo\n")
    assert train_task(env) == 2
    assert "face count expected after a.jpg" in (tmp_path / "output" / "failure").read_text()


def _wider_channel(tmp_path):
    (tmp_path / "images" / "0--Parade").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (100, 80)).save(tmp_path / "images" / "0--Parade" / name)
    return tmp_path


def test_wider_reader_keeps_valid_boxes_as_corners_and_reads_empty_images(tmp_path):
    channel = _wider_channel(tmp_path)
    (channel / "wider_face_train_bbx_gt.txt").write_text(
        "0--Parade/a.jpg\n3\n"
        "10 20 30 40 0 0 0 0 0 0\n"
        "50 5 2 2 0 0 0 0 0 0\n"  # 2 px: below min_size
        "60 10 20 20 0 0 0 1 0 0\n"  # invalid flag
        "0--Parade/b.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n"
    )
    first, second = read_wider(channel)
    assert first.path.name == "a.jpg"
    np.testing.assert_array_equal(first.boxes, [[10, 20, 40, 60]])
    assert second.boxes.shape == (0, 4)


def test_wider_writer_round_trips_through_the_reader(tmp_path):
    channel = _wider_channel(tmp_path)
    boxes = np.array([[1, 2, 31, 42], [50, 10, 70, 40]], dtype=np.float32)
    write_wider(channel, [("0--Parade/a.jpg", boxes), ("0--Parade/b.jpg", np.zeros((0, 4)))])
    first, second = read_wider(channel)
    np.testing.assert_array_equal(first.boxes, boxes)
    assert len(second.boxes) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0--Parade/a.jpg\n2\n1 1 9 9 0 0 0 0 0 0\n", "2 faces announced, 1 given"),
        ("0--Parade/zz.jpg\n1\n1 1 9 9 0 0 0 0 0 0\n", "no such image"),
        ("0--Parade/a.jpg\n1\n1 one 9 9 0 0 0 0 0 0\n", "not a box"),
    ],
)
def test_wider_reader_names_what_is_wrong(tmp_path, text, message):
    channel = _wider_channel(tmp_path)
    (channel / "wider_face_val_bbx_gt.txt").write_text(text)
    with pytest.raises(DataError, match=message):
        read_wider(channel)


def test_identity_tree_labels_folders_in_order_and_skips_empty_ones(tmp_path):
    for person, count in (("bob", 2), ("alice", 1), ("empty", 0)):
        (tmp_path / person).mkdir()
        for i in range(count):
            Image.new("RGB", (8, 8)).save(tmp_path / person / f"{i}.png")
    (tmp_path / "bob" / "notes.txt").write_text("not an image")
    tree = read_identities(tmp_path)
    assert tree.names == ["alice", "bob"]
    assert [label for _, label in tree.samples] == [0, 1, 1]


def test_identity_tree_with_one_person_cannot_train_arcface(tmp_path):
    (tmp_path / "alice").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "alice" / "0.png")
    with pytest.raises(DataError, match="ArcFace needs two or more"):
        read_identities(tmp_path)
