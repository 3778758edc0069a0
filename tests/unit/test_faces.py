import numpy as np

from style_backend import faces
from tests.photos import astronaut


def test_detects_the_astronaut_with_five_landmarks_inside_the_box():
    found = faces.detect_faces(astronaut())
    assert len(found) == 1
    face = found[0]
    assert face.landmarks.shape == (5, 2)
    left, top, right, bottom = face.box
    assert all(left <= x <= right and top <= y <= bottom for x, y in face.landmarks)
    assert face.left_eye[0] < face.right_eye[0]


def test_alignment_puts_the_eyes_where_it_promises():
    image = astronaut()
    face = faces.detect_faces(image)[0]
    crop = faces.align_face(image, face, size=512)
    assert crop.shape == (512, 512, 3)
    again = faces.detect_faces(crop)
    assert len(again) == 1
    want_left = np.array(faces.ALIGNED_LEFT_EYE) * 512
    want_right = np.array(faces.ALIGNED_RIGHT_EYE) * 512
    assert np.linalg.norm(again[0].left_eye - want_left) < 512 * 0.03
    assert np.linalg.norm(again[0].right_eye - want_right) < 512 * 0.03


def test_no_face_in_a_flat_image():
    assert faces.detect_faces(np.full((256, 256, 3), 127, np.uint8)) == []


def test_identity_descriptor_is_stable_under_alignment():
    image = astronaut()
    face = faces.detect_faces(image)[0]
    crop = faces.align_face(image, face)
    d1 = faces.identity_descriptor(image, face)
    d2 = faces.identity_descriptor(crop, faces.detect_faces(crop)[0])
    assert faces.identity_distance(d1, d2) < 0.35
