"""Face crop handler on real photos and real malformed files, against moto S3 and DynamoDB."""

import io
from dataclasses import dataclass

import face_crop
import numpy as np
import pytest
from PIL import Image

from facekit import faces, yunet
from style_backend.domain.process import Status
from style_backend.storage import keys
from tests import hostile
from tests.integration.conftest import BUCKET, USER, s3_event


def crop_of(pipeline, process) -> np.ndarray:
    data = pipeline.read(keys.crop_key(USER, process["processId"]))
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (512, 512)
    return np.asarray(image.convert("RGB"))


def assert_eyes_in_place(crop: np.ndarray) -> None:
    found = yunet.detect_faces(crop)
    assert found, "no face in the crop"
    for eye, where in (
        (found[0].left_eye, faces.ALIGNED_LEFT_EYE),
        (found[0].right_eye, faces.ALIGNED_RIGHT_EYE),
    ):
        assert np.linalg.norm(eye - np.array(where) * 512) < 512 * 0.03


AWKWARD = [
    ("jpg", hostile.exif_rotated_jpeg),
    ("jpg", hostile.twelve_megapixel_jpeg),
    ("jpg", hostile.cmyk_jpeg),
    ("jpg", hostile.grayscale_jpeg),
    ("png", hostile.png16),
    ("png", hostile.rgba_png),
    ("webp", hostile.webp),
    ("jpg", hostile.two_faces_jpeg),
    ("heic", hostile.heic_portrait),
    ("avif", hostile.avif_portrait),
    ("heic", hostile.exif_rotated_heic),
]


@pytest.mark.parametrize(("ext", "make"), AWKWARD, ids=[m.__name__ for _, m in AWKWARD])
def test_awkward_but_valid_pictures_are_cropped(pipeline, ext, make):
    process = pipeline.upload(make(), ext=ext)
    face_crop.handler(s3_event(process["sourceKey"]))
    item = pipeline.get(process["processId"])
    assert item["status"] == Status.CROPPED, item.get("error")
    assert item["cropKey"] == keys.crop_key(USER, process["processId"])
    assert_eyes_in_place(crop_of(pipeline, process))


def test_two_faces_the_larger_one_is_cropped(pipeline):
    process = pipeline.upload(hostile.two_faces_jpeg())
    face_crop.handler(s3_event(process["sourceKey"]))
    crop = crop_of(pipeline, process).astype(int)
    # The larger head is the grey one (JPEG chroma noise aside, the channels agree).
    assert np.abs(crop[..., 0] - crop[..., 2]).mean() < 2


HOSTILE = [
    ("jpg", hostile.no_face, "NO_FACE"),
    ("png", hostile.tiny_image, "FACE_TOO_SMALL"),
    ("png", hostile.small_face, "FACE_TOO_SMALL"),
    ("jpg", hostile.empty, "UNREADABLE_IMAGE"),
    ("jpg", hostile.text, "UNSUPPORTED_FORMAT"),
    ("jpg", hostile.truncated_jpeg, "UNREADABLE_IMAGE"),
    ("png", lambda: hostile.png_declaring(40000, 40000), "IMAGE_TOO_LARGE"),
    ("png", hostile.animated_gif, "UNSUPPORTED_FORMAT"),
    ("webp", hostile.animated_webp, "UNSUPPORTED_FORMAT"),
    ("png", hostile.svg, "UNSUPPORTED_FORMAT"),
    ("heic", hostile.truncated_heic, "UNREADABLE_IMAGE"),
    ("heic", hostile.heic_declaring_no_pixels, "UNREADABLE_IMAGE"),
    ("avif", hostile.animated_avif, "UNSUPPORTED_FORMAT"),
]


@pytest.mark.parametrize(
    ("ext", "make", "code"), HOSTILE, ids=[f"{c}-{i}" for i, (_, _, c) in enumerate(HOSTILE)]
)
def test_hostile_uploads_end_failed_with_their_reason(pipeline, ext, make, code):
    process = pipeline.upload(make(), ext=ext)
    face_crop.handler(s3_event(process["sourceKey"]))  # returns normally: no retry storm
    item = pipeline.get(process["processId"])
    assert item["status"] == Status.FAILED
    assert item["error"]["code"] == code
    assert item["error"]["message"]
    assert not pipeline.exists(keys.crop_key(USER, process["processId"]))


def test_size_is_checked_before_downloading(pipeline, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    process = pipeline.upload(hostile.jpeg(hostile.astronaut()))
    face_crop.handler(s3_event(process["sourceKey"]))
    assert pipeline.get(process["processId"])["error"]["code"] == "FILE_TOO_LARGE"


def test_duplicate_event_changes_nothing(pipeline):
    process = pipeline.upload(hostile.jpeg(hostile.astronaut()))
    event = s3_event(process["sourceKey"])
    face_crop.handler(event)
    first = pipeline.get(process["processId"])
    crop_key = keys.crop_key(USER, process["processId"])
    etag = pipeline.s3.head_object(Bucket=BUCKET, Key=crop_key)["ETag"]
    face_crop.handler(event)
    assert pipeline.get(process["processId"]) == first
    assert pipeline.s3.head_object(Bucket=BUCKET, Key=crop_key)["LastModified"] is not None
    assert pipeline.s3.head_object(Bucket=BUCKET, Key=crop_key)["ETag"] == etag


def test_duplicate_of_a_failed_upload_changes_nothing(pipeline):
    process = pipeline.upload(hostile.text())
    event = s3_event(process["sourceKey"])
    face_crop.handler(event)
    first = pipeline.get(process["processId"])
    face_crop.handler(event)
    assert pipeline.get(process["processId"]) == first


def test_upload_without_process_is_dropped(pipeline):
    key = keys.upload_key(USER, "no-such-process", "image/jpeg")
    pipeline.s3.put_object(Bucket=BUCKET, Key=key, Body=hostile.jpeg(hostile.astronaut()))
    face_crop.handler(s3_event(key))
    assert not pipeline.exists("crops/")


def test_upload_under_another_users_prefix_is_dropped(pipeline):
    process = pipeline.create()
    other = keys.upload_key("someone-else", process["processId"], "image/jpeg")
    pipeline.s3.put_object(Bucket=BUCKET, Key=other, Body=hostile.jpeg(hostile.astronaut()))
    face_crop.handler(s3_event(other))
    assert pipeline.get(process["processId"])["status"] == Status.CREATED
    assert not pipeline.exists("crops/")


def test_keys_outside_the_layout_and_vanished_objects_are_dropped(pipeline):
    face_crop.handler(s3_event("uploads/readme.txt"))
    face_crop.handler({"Records": [{"eventSource": "aws:sqs"}]})
    process = pipeline.create()  # the event arrives, the object is gone (erased meanwhile)
    face_crop.handler(s3_event(process["sourceKey"]))
    assert pipeline.get(process["processId"])["status"] == Status.CREATED


@dataclass
class LambdaContext:
    aws_request_id: str
    function_name: str = "FaceCropFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:000000000000:function:FaceCrop"
    memory_limit_in_mb: int = 2048


def test_every_outcome_is_one_json_log_line_with_the_process_id(pipeline, capsys):
    import json
    import logging

    from common.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)  # Powertools' JSON formatter
    logging.getLogger(logger.name).addHandler(handler)
    try:
        failed = pipeline.upload(hostile.text())
        face_crop.handler(s3_event(failed["sourceKey"]), LambdaContext("req-1"))
        cropped = pipeline.upload(hostile.jpeg(hostile.astronaut()))
        face_crop.handler(s3_event(cropped["sourceKey"]), LambdaContext("req-2"))
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(e["processId"], e["message"]) for e in entries] == [
        (failed["processId"], "failed"),
        (cropped["processId"], "cropped"),
    ]
    assert entries[0]["code"] == "UNSUPPORTED_FORMAT" and entries[0]["userId"] == USER
    # Lambda's request id, and the processId as correlation id, on every line.
    assert [e["function_request_id"] for e in entries] == ["req-1", "req-2"]
    assert [e["correlation_id"] for e in entries] == [failed["processId"], cropped["processId"]]
    # The failure is a CropsFailed metric (EMF) with its reason as the dimension.
    emf = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    (crop_failed,) = [m for m in emf if "CropsFailed" in m]
    assert crop_failed["reason"] == "UNSUPPORTED_FORMAT"
    assert crop_failed["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "StyleBackend"
