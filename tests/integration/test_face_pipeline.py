"""The whole chain on a real face: upload → crop → swap request → completion, then every event
delivered a second time."""

import base64
import io
import json

import boto3
import face_crop
import face_swap
import face_swap_completion
import numpy as np
from botocore.stub import Stubber
from PIL import Image

from common import aws
from facekit import faces, yunet
from style_backend.domain.process import Status, StyleStatus
from style_backend.storage import keys
from tests import hostile
from tests.integration.conftest import (
    BUCKET,
    DISPLAY_TABLE,
    ENDPOINT,
    USER,
    inference_notification,
    s3_event,
    sns_event,
    styled_jpeg,
)


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_a_selfie_becomes_a_styled_picture_once(pipeline):
    selfie = hostile.jpeg(hostile.astronaut())
    process = pipeline.upload(selfie, styles=["style-a"])
    pid = process["processId"]
    upload_event = s3_event(process["sourceKey"], size=len(selfie))

    # 1. Face crop: the crop holds the face, eyes where alignment promises.
    face_crop.handler(upload_event)
    assert pipeline.get(pid)["status"] == Status.CROPPED
    crop_key = keys.crop_key(USER, pid)
    crop = pipeline.read(crop_key)
    (located,) = yunet.detect_faces(rgb(crop))  # the crop's detector
    assert np.linalg.norm(located.left_eye - np.array(faces.ALIGNED_LEFT_EYE) * 512) < 15
    assert np.linalg.norm(located.right_eye - np.array(faces.ALIGNED_RIGHT_EYE) * 512) < 15
    found = faces.detect_faces(rgb(crop))
    assert len(found) == 1
    # Same person as the selfie (dlib's descriptor: < 0.6 means the same identity).
    original = hostile.astronaut()
    selfie_id = faces.identity_descriptor(original, faces.detect_faces(original)[0])
    assert faces.identity_distance(selfie_id, faces.identity_descriptor(rgb(crop), found[0])) < 0.4

    # 2. Face swap: the request JSON, then InvokeEndpointAsync with the deterministic id.
    request_key = keys.inference_request_key(pid, "style-a")
    inference_id = keys.inference_id(pid, "style-a")
    crop_event = s3_event(crop_key, size=len(crop))
    with Stubber(aws.client("sagemaker-runtime")) as endpoint:
        endpoint.add_response(
            "invoke_endpoint_async",
            {"InferenceId": inference_id, "OutputLocation": f"s3://{BUCKET}/inference/out/x"},
            expected_params={
                "EndpointName": ENDPOINT,
                "InputLocation": f"s3://{BUCKET}/{request_key}",
                "ContentType": "application/json",
                "InferenceId": inference_id,
            },
        )
        face_swap.handler(crop_event)
        endpoint.assert_no_pending_responses()
    request = json.loads(pipeline.read(request_key))
    assert base64.b64decode(request["source"]["b64"]) == crop  # inline: the container reads nothing
    assert base64.b64decode(request["target"]["b64"]) == pipeline.read(keys.base_key("style-a"))
    assert pipeline.get(pid)["styles"]["style-a"]["status"] == StyleStatus.SWAPPING

    # 3. The endpoint writes its output and notifies the success topic.
    output_key = f"{keys.INFERENCE_OUT}{inference_id}.out"
    styled = styled_jpeg(crop)
    pipeline.s3.put_object(Bucket=BUCKET, Key=output_key, Body=styled)
    done_event = sns_event(inference_notification(pid, "style-a", output_key=output_key))
    face_swap_completion.handler(done_event)

    result_key = keys.result_key(USER, pid, "style-a")
    assert pipeline.read(result_key) == styled
    final = pipeline.get(pid)
    assert final["status"] == Status.COMPLETED
    assert final["styles"]["style-a"]["resultKey"] == result_key
    display = boto3.resource("dynamodb").Table(DISPLAY_TABLE)
    rows = display.scan()["Items"]
    assert [r["resultId"] for r in rows] == [keys.result_id(process["createdAt"], pid, "style-a")]

    # 4. Every event delivered again: nothing changes, nothing is invoked (the Stubber would
    #    refuse any call), no second row.
    objects = pipeline.s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    with Stubber(aws.client("sagemaker-runtime")):
        face_crop.handler(upload_event)
        face_swap.handler(crop_event)
        face_swap_completion.handler(done_event)
    assert pipeline.get(pid) == final
    assert display.scan()["Items"] == rows
    again = pipeline.s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [(o["Key"], o["ETag"]) for o in again] == [(o["Key"], o["ETag"]) for o in objects]
