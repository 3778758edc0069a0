"""Completion handler: SNS success and error notifications of the async endpoint."""

import json

import boto3
import face_swap_completion
import pytest

from style_backend.domain.process import Status, StyleStatus
from style_backend.storage import keys
from tests import hostile
from tests.integration.conftest import (
    BUCKET,
    DISPLAY_TABLE,
    STYLES,
    USER,
    inference_notification,
    sns_event,
    styled_jpeg,
)


def swapping(pipeline, styles=STYLES):
    """A process whose styles were all sent to the endpoint (the swap handler's work)."""
    process = pipeline.create(styles)
    pid = process["processId"]
    crop = hostile.png(hostile.astronaut())
    pipeline.s3.put_object(Bucket=BUCKET, Key=keys.crop_key(USER, pid), Body=crop)
    pipeline.store.mark_cropped(pid, keys.crop_key(USER, pid))
    for style in styles:
        pipeline.store.mark_style_swapping(pid, style, keys.inference_id(pid, style))
    return process, crop


def endpoint_output(pipeline, pid, style, body: bytes) -> str:
    """What SageMaker async inference writes before it notifies."""
    key = f"{keys.INFERENCE_OUT}{keys.inference_id(pid, style)}.out"
    pipeline.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def display_rows():
    return boto3.resource("dynamodb").Table(DISPLAY_TABLE).scan()["Items"]


def succeed(pipeline, process, crop, style):
    out = endpoint_output(pipeline, process["processId"], style, styled_jpeg(crop))
    face_swap_completion.handler(
        sns_event(inference_notification(process["processId"], style, output_key=out))
    )
    return out


def test_success_copies_the_result_and_adds_one_display_row(pipeline):
    process, crop = swapping(pipeline)
    pid = process["processId"]
    out = succeed(pipeline, process, crop, "style-a")
    result_key = keys.result_key(USER, pid, "style-a")
    assert pipeline.read(result_key) == pipeline.read(out)
    head = pipeline.s3.head_object(Bucket=BUCKET, Key=result_key)
    assert head["ContentType"] == "image/jpeg"
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["status"] == StyleStatus.COMPLETED
    assert item["styles"]["style-a"]["resultKey"] == result_key
    assert item["status"] == Status.SWAPPING  # style-b still running
    assert display_rows() == [
        {
            "userId": USER,
            "resultId": keys.result_id(process["createdAt"], pid, "style-a"),
            "processId": pid,
            "resourceId": "style-a",
            "resultKey": result_key,
            "createdAt": process["createdAt"],
        }
    ]
    succeed(pipeline, process, crop, "style-b")
    assert pipeline.get(pid)["status"] == Status.COMPLETED
    assert len(display_rows()) == 2


def test_duplicate_success_changes_nothing(pipeline):
    process, crop = swapping(pipeline, ["style-a"])
    out = endpoint_output(pipeline, process["processId"], "style-a", styled_jpeg(crop))
    event = sns_event(inference_notification(process["processId"], "style-a", output_key=out))
    face_swap_completion.handler(event)
    item, rows = pipeline.get(process["processId"]), display_rows()
    face_swap_completion.handler(event)
    assert pipeline.get(process["processId"]) == item
    assert display_rows() == rows and len(rows) == 1


def test_retry_after_a_crash_before_the_display_row_adds_it(pipeline):
    process, crop = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    out = endpoint_output(pipeline, pid, "style-a", styled_jpeg(crop))
    # The first delivery ended the style, then died before its Display put.
    pipeline.store.finish_style(pid, "style-a", result_key=keys.result_key(USER, pid, "style-a"))
    face_swap_completion.handler(sns_event(inference_notification(pid, "style-a", output_key=out)))
    assert [r["resourceId"] for r in display_rows()] == ["style-a"]
    assert pipeline.get(pid)["status"] == Status.COMPLETED


def test_error_topic_fails_the_style_and_then_the_process(pipeline):
    process, _crop = swapping(pipeline)
    pid = process["processId"]
    event = sns_event(inference_notification(pid, "style-a", failure_reason="CUDA out of memory"))
    face_swap_completion.handler(event)
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["status"] == StyleStatus.FAILED
    assert item["styles"]["style-a"]["error"]["code"] == "SWAP_FAILED"
    assert "CUDA out of memory" in item["styles"]["style-a"]["error"]["message"]
    face_swap_completion.handler(event)  # duplicate
    assert pipeline.get(pid) == item
    face_swap_completion.handler(sns_event(inference_notification(pid, "style-b")))
    item = pipeline.get(pid)
    assert item["status"] == Status.FAILED and item["error"]["code"] == "SWAP_FAILED"
    assert display_rows() == []


def test_one_failure_one_success_completes(pipeline):
    process, crop = swapping(pipeline)
    face_swap_completion.handler(sns_event(inference_notification(process["processId"], "style-a")))
    succeed(pipeline, process, crop, "style-b")
    assert pipeline.get(process["processId"])["status"] == Status.COMPLETED


def test_a_json_error_body_on_the_success_topic_is_a_failure(pipeline):
    process, _ = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    body = json.dumps({"error": {"code": "NO_FACE", "message": "no face in the source"}})
    out = endpoint_output(pipeline, pid, "style-a", body.encode())
    face_swap_completion.handler(sns_event(inference_notification(pid, "style-a", output_key=out)))
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["error"]["code"] == "SWAP_FAILED"
    assert "no face in the source" in item["styles"]["style-a"]["error"]["message"]
    assert not pipeline.exists(keys.result_key(USER, pid, "style-a"))
    assert item["status"] == Status.FAILED


def test_output_outside_inference_out_is_not_copied(pipeline):
    process, _ = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    message = inference_notification(pid, "style-a", output_key=keys.crop_key(USER, pid))
    face_swap_completion.handler(sns_event(message))
    assert pipeline.get(pid)["styles"]["style-a"]["status"] == StyleStatus.FAILED
    assert not pipeline.exists(keys.RESULTS)


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[]",
        json.dumps({"invocationStatus": "Completed"}),
        json.dumps({"hello": "world"}),
    ],
)
def test_malformed_messages_are_dropped(pipeline, message):
    process, _ = swapping(pipeline, ["style-a"])
    face_swap_completion.handler(sns_event(message))
    face_swap_completion.handler({"Records": [{"Sns": {}}, "nonsense"]})
    face_swap_completion.handler({})
    assert pipeline.get(process["processId"])["styles"]["style-a"]["status"] == "SWAPPING"


def test_notifications_for_unknown_or_mismatched_inferences_are_dropped(pipeline):
    process, _crop = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    face_swap_completion.handler(sns_event(inference_notification("gone", "style-a")))
    face_swap_completion.handler(sns_event(inference_notification(pid, "not-requested")))
    forged = inference_notification(pid, "style-a")
    forged["inferenceId"] = keys.inference_id(pid, "other")
    face_swap_completion.handler(sns_event(forged))
    assert pipeline.get(pid)["styles"]["style-a"]["status"] == StyleStatus.SWAPPING


def test_completion_that_beats_the_swapping_mark_still_completes(pipeline):
    process = pipeline.create(["style-a"])
    pid = process["processId"]
    crop = hostile.png(hostile.astronaut())
    pipeline.s3.put_object(Bucket=BUCKET, Key=keys.crop_key(USER, pid), Body=crop)
    pipeline.store.mark_cropped(pid, keys.crop_key(USER, pid))
    succeed(pipeline, process, crop, "style-a")  # the style is still PENDING
    assert pipeline.get(pid)["status"] == Status.COMPLETED
    # The swap handler's late mark changes nothing.
    assert not pipeline.store.mark_style_swapping(pid, "style-a", keys.inference_id(pid, "style-a"))
    item = pipeline.get(pid)
    assert item["status"] == Status.COMPLETED
    assert item["styles"]["style-a"]["status"] == StyleStatus.COMPLETED


def test_erasure_during_completion_leaves_no_result_behind(pipeline):
    """The user erases their data while the completion runs: the Process is deleted between the
    handler's read and its write (injected at the DynamoDB boundary). Nothing of the user may be
    left in results/, and the handler must not crash into a retry."""
    process, crop = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    out = endpoint_output(pipeline, pid, "style-a", styled_jpeg(crop))
    table = pipeline.store.table
    events = table.meta.client.meta.events

    def erase_first(params, **_):
        if params.get("Key") == {"processId": pid}:
            events.unregister("provide-client-params.dynamodb.UpdateItem", erase_first)
            boto3.client("dynamodb").delete_item(
                TableName=table.name, Key={"processId": {"S": pid}}
            )

    events.register("provide-client-params.dynamodb.UpdateItem", erase_first)
    face_swap_completion.handler(sns_event(inference_notification(pid, "style-a", output_key=out)))
    assert not pipeline.exists(keys.result_key(USER, pid, "style-a"))
    assert display_rows() == []


def test_an_empty_output_fails_the_style_without_a_retry(pipeline):
    process, _ = swapping(pipeline, ["style-a"])
    pid = process["processId"]
    out = endpoint_output(pipeline, pid, "style-a", b"")
    face_swap_completion.handler(sns_event(inference_notification(pid, "style-a", output_key=out)))
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["status"] == StyleStatus.FAILED
    assert item["status"] == Status.FAILED
