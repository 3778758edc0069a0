"""Face Mesh through OpenCV (facekit.mesh): its triangles close the face, its points sit on the
face YuNet found, follow the face when the picture turns, and a faceless region has no mesh."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facekit import mesh, yunet
from local.photos import astronaut


def _mesh(rgb: np.ndarray) -> mesh.FaceMesh:
    face = yunet.detect_faces(rgb)[0]
    return mesh.face_mesh(rgb, face.landmarks, face.box)


def test_triangles_cover_the_face_once_and_wind_one_way():
    triangles = mesh.triangles()
    assert len(triangles) == 898  # the canonical mesh's count, eyes and mouth closed
    directed = [(t[i], t[(i + 1) % 3]) for t in triangles for i in range(3)]
    assert len(directed) == len(set(directed))  # neighbours cross shared edges both ways
    xy = _mesh(astronaut()).xy
    a, b, c = (xy[triangles[:, i]] for i in range(3))
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    assert (np.sign(area) == np.sign(area.sum())).mean() > 0.9  # a near-frontal face


def test_points_agree_with_yunets_landmarks():
    rgb = astronaut()
    face = yunet.detect_faces(rgb)[0]
    found = mesh.face_mesh(rgb, face.landmarks, face.box)
    error = np.linalg.norm(found.five_points - face.landmarks, axis=1) / face.eye_distance
    assert error.max() < 0.15, error


@pytest.mark.parametrize("degrees", [-30, 25])
def test_the_mesh_turns_with_the_picture(degrees):
    rgb = astronaut()
    before = _mesh(rgb)
    turn = cv2.getRotationMatrix2D((256, 256), degrees, 1.0)
    turned = cv2.warpAffine(rgb, turn, (512, 512), borderMode=cv2.BORDER_REFLECT)
    after = _mesh(turned)
    expected = before.xy @ turn[:, :2].T + turn[:, 2]
    error = np.linalg.norm(after.xy - expected, axis=1).mean() / before.eye_distance
    assert error < 0.05, error
    _, _, roll = mesh.yaw_pitch_roll(mesh.head_rotation(before, after))
    assert abs(abs(roll) - abs(degrees)) < 5, roll


def test_a_region_without_a_face_has_no_mesh():
    flat = np.full((256, 256, 3), 128, np.uint8)
    with pytest.raises(mesh.NoMesh):
        mesh.face_mesh(
            flat,
            np.array([[96, 110], [160, 110], [128, 140], [100, 170], [156, 170]]),
            (64, 64, 128, 140),
        )
