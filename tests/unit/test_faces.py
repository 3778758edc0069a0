import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekit import faces, yunet
from local import photos
from local.photos import astronaut
from style_backend.domain.errors import Failure
from tests import hostile
from tests.prerequisites import require

ROOT = Path(__file__).resolve().parents[2]


def test_detects_the_astronaut_with_five_landmarks_inside_the_box():
    found = faces.detect_faces(astronaut())
    assert len(found) == 1
    face = found[0]
    assert face.landmarks.shape == (5, 2)
    left, top, right, bottom = face.box
    assert all(left <= x <= right and top <= y <= bottom for x, y in face.landmarks)
    assert face.left_eye[0] < face.right_eye[0]


def test_dlib_alignment_puts_the_eyes_where_it_promises():
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


def test_the_crop_puts_all_five_yunet_landmarks_on_its_template():
    image = astronaut()
    crop, face = faces.crop_main_face(image)
    assert isinstance(face, yunet.DetectedFace) and crop.shape == (512, 512, 3)
    (again,) = yunet.detect_faces(crop)
    # Where the warp put the five points is where they are found again in the crop …
    matrix = faces.alignment_matrix(face, 512)
    moved = face.landmarks @ matrix[:, :2].T + matrix[:, 2]
    # (to YuNet's precision: ~4 px in the 47-px-eyed portrait, tripled by the warp).
    assert np.linalg.norm(again.landmarks - moved, axis=1).max() < 512 * 0.03
    # … and that is the template, up to the face's own proportions (a smile widens the mouth).
    assert np.linalg.norm(moved / 512 - faces.CROP_TEMPLATE, axis=1).mean() < 0.03
    # The template keeps the crop's framing: eyes on ALIGNED_*, nose tip beside ALIGNED_NOSE.
    eyes = [faces.ALIGNED_LEFT_EYE, faces.ALIGNED_RIGHT_EYE]
    assert np.allclose(faces.CROP_TEMPLATE[:2], eyes, atol=0.001)  # (ArcFace's tilt: 0.2°)
    assert abs(faces.CROP_TEMPLATE[2, 1] - faces.ALIGNED_NOSE[1]) < 0.01


def test_no_face_in_a_flat_image():
    flat = np.full((256, 256, 3), 127, np.uint8)
    assert faces.detect_faces(flat) == [] and yunet.detect_faces(flat) == []


def test_identity_descriptor_is_stable_under_alignment():
    image = astronaut()
    face = faces.detect_faces(image)[0]
    crop = faces.align_face(image, face)
    d1 = faces.identity_descriptor(image, face)
    d2 = faces.identity_descriptor(crop, faces.detect_faces(crop)[0])
    assert faces.identity_distance(d1, d2) < 0.35


# --- choosing the main face ----------------------------------------------------------------


def _decoded(data: bytes):
    from facekit import imaging

    return imaging.decode_image(
        data, max_pixels=40_000_000, max_bytes=10 << 20, target_max_side=1536
    ).rgb


def _eyes_in_place(crop: np.ndarray) -> bool:
    again = yunet.detect_faces(crop)
    want = faces.CROP_TEMPLATE[:2] * crop.shape[1]
    return len(again) >= 1 and np.linalg.norm(again[0].landmarks[:2] - want, axis=1).max() < (
        crop.shape[1] * 0.03
    )


def test_the_larger_of_two_faces_wins():
    image, (left, right) = hostile.two_faces_rgb()
    assert len(yunet.detect_faces(image)) == 2
    crop, face = faces.crop_main_face(image)
    assert left <= face.box[0] and face.box[0] + face.box[2] <= right
    # The larger head is the grey one: its crop has three equal channels.
    assert np.abs(crop[..., 0].astype(int) - crop[..., 2]).max() <= 2
    assert _eyes_in_place(crop)


def test_a_grey_portrait_has_one_face_the_head_not_the_suit():
    # dlib's HOG also fired on the suit (a larger, weak box); YuNet finds the head alone.
    gray = _decoded(hostile.grayscale_jpeg())
    (found,) = yunet.detect_faces(gray)
    crop, face = faces.crop_main_face(gray)
    assert face.box == found.box and face.box[1] < 200
    assert _eyes_in_place(crop)


def test_a_large_picture_is_searched_downscaled_and_cropped_at_full_detail():
    image = _decoded(hostile.twelve_megapixel_jpeg())
    assert max(image.shape) > yunet.DETECT_MAX_SIDE
    crop, face = faces.crop_main_face(image)
    # In the 1536-wide picture the portrait spans 922 px: its eyes are ~78 px apart.
    assert 65 < face.eye_distance < 90
    assert _eyes_in_place(crop)


def test_a_turned_head_dlib_misses_is_cropped():
    """The styling crop's reason for YuNet: a face turned away from the camera (face-api's
    sample2, the woman in profile biting a nail) that dlib's frontal HOG cannot find."""
    path = photos.PHOTO_CACHE / "face_api" / "sample2.jpg"
    require(path.exists(), ".cache/photos/face_api/sample2.jpg")
    rgb = _decoded(path.read_bytes())
    turned = min(yunet.detect_faces(rgb), key=lambda f: _frontality(f))
    x, y, w, h = (round(v) for v in turned.box)
    head = np.ascontiguousarray(rgb[max(y - h, 0) : y + 2 * h, max(x - w, 0) : x + 2 * w])
    assert faces.detect_faces(head) == [] and faces.detect_faces(head, upsample=1) == []
    crop, _ = faces.crop_main_face(head)
    # Upright and centred on the template's eyes (a profile's eyes sit closer than a frontal
    # face's: the five-point fit compromises between them and the mouth).
    (again,) = yunet.detect_faces(crop)
    left, right = again.landmarks[:2]
    assert abs(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))) < 10
    middle = faces.CROP_TEMPLATE[:2].mean(axis=0) * 512
    assert np.linalg.norm((left + right) / 2 - middle) < 512 * 0.08


def _frontality(face: yunet.DetectedFace) -> float:
    """How centred the nose tip is between the eyes (1 frontal, 0 on an eye: in profile)."""
    left, right, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    t = (nose - left) @ (right - left) / ((right - left) @ (right - left))
    return 1 - abs(2 * t - 1)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (hostile.tiny_image, "FACE_TOO_SMALL"),
        (hostile.small_face, "FACE_TOO_SMALL"),
        (hostile.no_face, "NO_FACE"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_pictures_without_a_usable_face_fail_with_a_reason(make, code):
    with pytest.raises(Failure) as caught:
        faces.crop_main_face(_decoded(make()))
    assert caught.value.code == code


def test_a_small_face_is_found_but_too_small_to_crop():
    image = _decoded(hostile.small_face())
    (found,) = yunet.detect_faces(image)
    assert found.eye_distance < faces.MIN_EYE_DISTANCE


@pytest.mark.parametrize("detect", [faces.detect_faces, yunet.detect_faces], ids=["dlib", "yunet"])
def test_face_scaling_maps_landmarks_and_box(detect):
    face = detect(astronaut())[0]
    double = face.scaled(2.0)
    assert np.allclose(double.landmarks, face.landmarks * 2)
    assert double.box == tuple(2 * v for v in face.box)
    assert double.eye_distance == pytest.approx(2 * face.eye_distance)


def test_face_and_imaging_modules_do_not_import_boto3():
    # The container and the crop's hot path import them; boto3 costs ~0.3 s of cold start.
    code = (
        "import sys; import facekit.faces, facekit.imaging; "
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": "lambda/shared"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_a_strong_shrink_is_prefiltered_and_lands_where_the_plain_warp_does():
    head = np.ascontiguousarray(astronaut()[hostile.HEAD])
    big = np.asarray(Image.fromarray(head).resize((1792, 1792), Image.Resampling.BICUBIC))
    face = yunet.find_main_face(big)
    matrix = faces.alignment_matrix(face, 512)
    assert np.sqrt(np.linalg.det(matrix[:, :2])) < 0.5  # the reduced path is taken
    crop = faces.align_face(big, face)
    plain = faces.warp_affine(big, matrix, 512)
    assert np.abs(crop.astype(int) - plain).mean() < 4
    assert _eyes_in_place(crop)


def test_an_enlargement_is_rotated_then_resized_and_lands_where_one_bicubic_warp_does():
    image = astronaut()
    face = yunet.find_main_face(image)
    matrix = faces.alignment_matrix(face, 512)
    assert np.sqrt(np.linalg.det(matrix[:, :2])) > 2  # the two-step path is taken
    crop = faces.align_face(image, face).astype(float)
    plain = faces.warp_affine(image, matrix, 512, resample="bicubic").astype(float)
    # Half a photo pixel of slip between the two steps costs 11 dB here.
    assert 10 * np.log10(255**2 / np.mean((crop - plain) ** 2)) > 38
    assert _eyes_in_place(crop.astype(np.uint8))


def test_a_library_bug_on_an_upload_ends_unreadable_not_in_a_crash(monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("decoder bug")

    data = hostile.cmyk_jpeg()
    monkeypatch.setattr(Image.Image, "convert", broken)  # CMYK → RGB goes through it
    with pytest.raises(Failure) as caught:
        faces.crop_from_upload(data, max_bytes=10 << 20)
    assert caught.value.code == "UNREADABLE_IMAGE"
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_crop_from_upload_is_the_aligned_main_face():
    crop = faces.crop_from_upload(hostile.webp(), max_bytes=10 << 20)
    assert crop.shape == (512, 512, 3)
    assert _eyes_in_place(crop)
