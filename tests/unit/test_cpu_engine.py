"""The CPU swap engine in-process: identity kept, only the face region changed, no-face errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from facechain_serving.engines import find_face
from facechain_serving.engines.cpu import CpuEngine, face_mask
from facechain_serving.errors import NoFace
from facechain_serving.request import SwapOptions

from facekit import faces
from local.photos import astronaut, group_faces
from tests.prerequisites import require

PEOPLE = 6


@pytest.fixture(scope="module")
def engine() -> CpuEngine:
    loaded = CpuEngine()
    loaded.load()
    return loaded


def person(index: int) -> np.ndarray:
    people = group_faces()
    require(len(people) > index, "the group photo (scripts/fetch_photos.py)")
    return people[index]


def descriptor(rgb: np.ndarray) -> np.ndarray:
    return faces.identity_descriptor(rgb, find_face(rgb, "result"))


@pytest.mark.parametrize("index", range(PEOPLE))
@pytest.mark.parametrize("astronaut_is_source", [True, False])
def test_result_is_closer_to_the_source_identity(engine, index, astronaut_is_source):
    source, target = astronaut(), person(index)
    if not astronaut_is_source:
        source, target = target, source
    result = engine.swap(source, target, SwapOptions())
    assert result.shape == target.shape and result.dtype == np.uint8
    to_source = faces.identity_distance(descriptor(result), descriptor(source))
    to_target = faces.identity_distance(descriptor(result), descriptor(target))
    assert to_source < to_target, (to_source, to_target)


@pytest.mark.parametrize("blend", ["poisson", "laplacian"])
def test_only_the_inner_face_changes(engine, blend):
    """No rectangle: half an eye distance (15 px at least) past the face ellipse, the target
    is intact."""
    source, target = astronaut(), person(0)
    result = engine.swap(source, target, SwapOptions(blend=blend))
    face = find_face(target, "target")
    mask = face_mask(face, target.shape[:2])
    reach = max(31, int(face.eye_distance * 0.5) | 1)
    margin = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    changed = np.abs(result.astype(int) - target.astype(int)).max(axis=2) > 2
    assert changed[mask > 0].mean() > 0.5  # the face did move
    assert changed[margin == 0].mean() < 0.002


def test_seam_is_no_sharper_than_the_target(engine):
    """Across the mask edge the result's gradient stays within the target's own (no visible cut)."""
    source, target = astronaut(), person(0)
    result = engine.swap(source, target, SwapOptions())
    mask = face_mask(find_face(target, "target"), target.shape[:2])
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0

    def gradient(rgb: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))

    assert gradient(result)[edge].mean() < 1.5 * gradient(target)[edge].mean() + 5


def flat_picture(size: int = 256) -> np.ndarray:
    return np.full((size, size, 3), 128, np.uint8)


@pytest.mark.parametrize("role", ["source", "target"])
def test_no_face_names_the_image(engine, role):
    images = {"source": astronaut(), "target": astronaut(), role: flat_picture()}
    with pytest.raises(NoFace, match=role) as raised:
        engine.swap(images["source"], images["target"], SwapOptions())
    assert raised.value.status == 400 and raised.value.code == "NO_FACE"
