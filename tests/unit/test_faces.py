import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekit import faces
from local.photos import astronaut
from style_backend.errors import Failure
from tests import hostile

ROOT = Path(__file__).resolve().parents[2]


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


# --- choosing the main face ----------------------------------------------------------------


def _decoded(data: bytes):
    from facekit import imaging

    return imaging.decode_image(
        data, max_pixels=40_000_000, max_bytes=10 << 20, target_max_side=1536
    ).rgb


def _eyes_in_place(crop: np.ndarray) -> bool:
    again = faces.detect_faces(crop)
    want_left = np.array(faces.ALIGNED_LEFT_EYE) * crop.shape[1]
    want_right = np.array(faces.ALIGNED_RIGHT_EYE) * crop.shape[1]
    return (
        len(again) >= 1
        and np.linalg.norm(again[0].left_eye - want_left) < crop.shape[1] * 0.03
        and np.linalg.norm(again[0].right_eye - want_right) < crop.shape[1] * 0.03
    )


def test_the_larger_of_two_faces_wins():
    image, (left, right) = hostile.two_faces_rgb()
    assert len(faces.detect_faces(image)) == 2
    face = faces.find_main_face(image)
    assert left <= face.box[0] and face.box[2] <= right
    crop, _ = faces.crop_main_face(image)
    # The larger head is the grey one: its crop has three equal channels.
    assert np.abs(crop[..., 0].astype(int) - crop[..., 2]).max() <= 2
    assert _eyes_in_place(crop)


def test_a_weak_larger_detection_does_not_beat_a_confident_face():
    gray = _decoded(hostile.grayscale_jpeg())
    found = faces.detect_faces(gray)
    assert len(found) == 2 and found[0].score < 0.2  # HOG fires on the suit, larger box
    face = faces.find_main_face(gray)
    assert face.box == found[1].box
    assert face.box[1] < 200  # the head, not the suit


def test_a_large_picture_is_searched_downscaled_and_cropped_at_full_detail():
    image = _decoded(hostile.twelve_megapixel_jpeg())
    assert max(image.shape) > faces.DETECT_MAX_SIDE
    face = faces.find_main_face(image)
    # In the 1536-wide picture the portrait spans 922 px: its eyes are ~78 px apart.
    assert 65 < face.eye_distance < 90
    crop, _ = faces.crop_main_face(image)
    assert _eyes_in_place(crop)


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
        faces.find_main_face(_decoded(make()))
    assert caught.value.code == code


def test_small_face_is_found_only_by_the_upsampled_pass():
    image = _decoded(hostile.small_face())
    assert faces.detect_faces(image) == []
    assert len(faces.detect_faces(image, upsample=1)) == 1


def test_face_scaling_maps_landmarks_and_box():
    face = faces.detect_faces(astronaut())[0]
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
    big = np.asarray(Image.fromarray(head).resize((1536, 1536), Image.Resampling.BICUBIC))
    face = faces.find_main_face(big)
    matrix = faces.alignment_matrix(face, 512)
    assert np.sqrt(np.linalg.det(matrix[:, :2])) < 0.5  # the reduced path is taken
    crop = faces.align_face(big, face)
    plain = faces.warp_affine(big, matrix, 512)
    assert np.abs(crop.astype(int) - plain).mean() < 4
    assert _eyes_in_place(crop)


@pytest.fixture
def models_dir_with_detector(tmp_path, monkeypatch):
    """A models directory as the Lambda layer ships it: the 5-point model and the detector."""
    source = faces.models_dir()
    (tmp_path / faces.LANDMARK_MODEL).symlink_to(source / faces.LANDMARK_MODEL)
    faces.write_detector(tmp_path)
    monkeypatch.setenv("FACE_MODELS_DIR", str(tmp_path))
    faces._detector.cache_clear()
    faces._shape_predictor.cache_clear()
    yield tmp_path
    faces._detector.cache_clear()
    faces._shape_predictor.cache_clear()


def test_the_serialized_detector_finds_exactly_what_the_compiled_one_does(
    models_dir_with_detector, monkeypatch
):
    import dlib

    image, _ = hostile.two_faces_rgb()
    compiled = dlib.get_frontal_face_detector().run(image, 1, 0.0)
    # From here on, only the file can provide the detector.
    monkeypatch.setattr(dlib, "get_frontal_face_detector", lambda: pytest.fail("not the file"))
    assert (models_dir_with_detector / faces.DETECTOR_MODEL).stat().st_size > 10_000
    loaded = faces._detector().run(image, 1, 0.0)
    assert [str(r) for r in loaded[0]] == [str(r) for r in compiled[0]]
    assert loaded[1] == compiled[1]
    assert len(faces.detect_faces(image)) == len(compiled[0]) == 2


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
