"""The networks' shapes, the losses and the evaluation metrics, on small exact cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from faceflow_models.detection.loss import assign, detection_loss, sigmoid_focal_loss
from faceflow_models.detection.model import STRIDES, DecodedDetector, FaceDetector, detect
from faceflow_models.embedding.model import ArcFace, FaceEmbedder, ResNet
from faceflow_models.evaluation import bcubed, cluster, pair_scores, purity, roc, tar_at_far


def test_detector_predicts_one_map_per_fpn_level_at_strides_8_16_32():
    torch.manual_seed(0)
    outputs = FaceDetector(width=0.35, fpn_channels=16)(torch.rand(1, 3, 128, 96) * 255)
    assert [cls.shape[-2:] for cls, _ in outputs] == [(128 // s, 96 // s) for s in STRIDES]
    assert all(box.shape[1] == 4 and (box > 0).all() for _, box in outputs)


def test_decoded_detector_gives_a_box_and_probability_per_location():
    boxes, scores = DecodedDetector(FaceDetector(0.35, 16).eval())(torch.zeros(2, 3, 64, 64))
    locations = sum((64 // s) ** 2 for s in STRIDES)
    assert boxes.shape == (2, locations, 4) and scores.shape == (2, locations)
    assert ((scores > 0) & (scores < 1)).all()
    # The head starts at the focal-loss prior: everything is background.
    assert float(scores.mean().detach()) == pytest.approx(0.01, abs=0.01)


def test_focal_loss_discounts_easy_examples():
    targets = torch.tensor([0.0])
    easy, hard = (
        sigmoid_focal_loss(torch.tensor([-4.0]), targets),
        sigmoid_focal_loss(torch.tensor([4.0]), targets),
    )
    ce_ratio = (math.log1p(math.exp(4.0))) / math.log1p(math.exp(-4.0))
    assert float(hard / easy) > 10 * ce_ratio  # far more than cross-entropy's own ratio


def test_assignment_picks_central_locations_on_the_level_matching_the_box_size():
    points = torch.tensor([[20.0, 20.0], [20.0, 20.0], [100.0, 100.0]])
    level = torch.tensor([0, 2, 0])
    boxes = torch.tensor([[0.0, 0.0, 40.0, 40.0]])  # 40 px: level 0 (stride 8)
    np.testing.assert_array_equal(assign(points, level, boxes).numpy(), [0, -1, -1])
    assert (assign(points, level, torch.zeros((0, 4))) == -1).all()


def test_detection_loss_is_lower_for_a_prediction_that_matches_the_face():
    model = FaceDetector(0.35, 16)
    images = torch.rand(1, 3, 64, 64) * 255
    face = [torch.tensor([[16.0, 16.0, 48.0, 48.0]])]
    loss, parts = detection_loss(model(images), face)
    assert parts["positives"] >= 1 and float(loss) > 0
    outputs = [(cls.detach().clone(), box.detach().clone()) for cls, box in model(images)]
    cls, box = outputs[0]  # stride 8: locations 3 and 4 (28 and 36 px) are near the centre
    for y in (3, 4):
        for x in (3, 4):
            px, py = (x + 0.5) * 8, (y + 0.5) * 8
            cls[0, 0, y, x] = 8.0
            box[0, :, y, x] = torch.tensor([px - 16, py - 16, 48 - px, 48 - py]) / 8
    better, _ = detection_loss(outputs, face)
    assert float(better) < float(loss)


def test_detect_suppresses_overlapping_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    kept = detect(boxes, scores, threshold=0.5, iou_threshold=0.4)
    assert [round(s, 2) for _, s in kept] == [0.9, 0.7]


def test_embedder_outputs_512_unit_vectors():
    vectors = FaceEmbedder(ResNet((1, 1, 1, 1), width=8, image_size=64).eval())(
        torch.rand(3, 3, 64, 64) * 255
    )
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(vectors.norm(dim=1).detach().numpy(), 1.0, atol=1e-5)


def test_arcface_margin_makes_the_loss_higher_than_plain_normalised_softmax():
    torch.manual_seed(0)
    head = ArcFace(identities=5, scale=16.0, margin=0.5)
    embeddings, labels = torch.randn(8, 512), torch.randint(0, 5, (8,))
    without = ArcFace(identities=5, scale=16.0, margin=0.0)
    without.weight = head.weight
    assert float(head(embeddings, labels)) > float(without(embeddings, labels))


def test_roc_and_tar_at_far_on_a_hand_counted_case():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    genuine = np.array([True, False, True, False, False, True])
    points = roc(scores, genuine)
    assert points[0] == (0.9, 0.0, pytest.approx(1 / 3))
    assert tar_at_far(scores, genuine, 0.0) == pytest.approx(1 / 3)
    assert tar_at_far(scores, genuine, 1 / 3) == pytest.approx(2 / 3)
    assert tar_at_far(scores, genuine, 1.0) == 1.0


def test_pairs_count_every_combination_once():
    vectors = np.eye(3)
    scores, genuine = pair_scores(vectors, [0, 0, 1])
    assert list(genuine) == [True, False, False] and len(scores) == 3


def test_clustering_purity_and_bcubed():
    vectors = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.1, 0.99]], dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    clusters = cluster(vectors, threshold=0.9)
    assert clusters[0] == clusters[1] != clusters[2] == clusters[3]
    assert purity(clusters, [0, 0, 1, 1]) == 1.0
    # One cluster holding everything: purity 1/2, BCubed precision 1/2, recall 1.
    assert purity([0, 0, 0, 0], [0, 0, 1, 1]) == 0.5
    p, r, f = bcubed([0, 0, 0, 0], [0, 0, 1, 1])
    assert (p, r) == (0.5, 1.0) and f == pytest.approx(2 / 3)
