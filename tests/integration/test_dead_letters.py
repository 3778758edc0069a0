"""A crop, swap or completion event that failed every retry (issue 10): Lambda hands it to the
function's on-failure queue, whose consumer ends the process or styles it left open FAILED with
a reason, so no process stays CREATED or SWAPPING. The events really exhaust their retries here
(S3 or the endpoint keeps answering 503 at the botocore boundary); the record is what Lambda's
on-failure destination sends, wrapped in the SQS event the queue's event source delivers."""

from __future__ import annotations

import json

import face_crop
import face_swap
import face_swap_completion
import pipeline_dead_letters
import pytest

from common import aws
from style_backend.domain.process import Status, StyleStatus
from style_backend.edge import face_swap as swap_step
from style_backend.storage import keys
from tests import hostile
from tests.integration.conftest import (
    BUCKET,
    STYLES,
    USER,
    inference_notification,
    s3_event,
    sns_event,
)


def on_failure_record(event: dict, condition: str = "RetriesExhausted") -> dict:
    """The message Lambda's on-failure destination puts in the queue."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T22:00:00.000Z",
        "requestContext": {
            "requestId": "3a1e2f0c-0000-4000-8000-000000000001",
            "functionArn": "arn:aws:lambda:us-west-2:123456789012:function:face-swap:$LATEST",
            "condition": condition,
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"errorMessage": "ServiceUnavailable", "errorType": "ClientError"},
    }


def sqs_event(*bodies: dict | str) -> dict:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"r-{i}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-west-2:123456789012:FaceSwapDeadLetterQueue",
            }
            for i, body in enumerate(bodies)
        ]
    }


def cropped(pipeline) -> tuple[str, str]:
    process = pipeline.create(list(STYLES))
    pid = process["processId"]
    crop_key = keys.crop_key(USER, pid)
    pipeline.s3.put_object(Bucket=BUCKET, Key=crop_key, Body=hostile.png(hostile.astronaut()))
    pipeline.store.mark_cropped(pid, crop_key)
    return pid, crop_key


def exhaust_the_swap(endpoint, crop_key: str) -> dict:
    """Three deliveries (the first try and Lambda's 2 retries), each ending in an exception."""
    event = s3_event(crop_key)
    for _attempt in range(3):
        for _try in range(swap_step.RETRY_ATTEMPTS):
            endpoint.add_client_error(
                "invoke_endpoint_async",
                service_error_code="ServiceUnavailable",
                http_status_code=503,
            )
        with pytest.raises(Exception, match="ServiceUnavailable"):
            face_swap.handler(event)
    return event


def test_a_swap_whose_retries_are_exhausted_ends_failed_with_a_reason(pipeline, endpoint):
    pid, crop_key = cropped(pipeline)
    event = exhaust_the_swap(endpoint, crop_key)
    assert pipeline.get(pid)["status"] == Status.SWAPPING  # what used to stay forever

    answer = pipeline_dead_letters.handler(sqs_event(on_failure_record(event)))
    assert answer == {"batchItemFailures": []}
    item = pipeline.get(pid)
    assert item["status"] == Status.FAILED
    assert item["error"]["code"] == "SWAP_FAILED"
    for style in item["styles"].values():
        assert style["status"] == StyleStatus.FAILED
        assert "try again later" in style["error"]["message"]

    # Delivered again (SQS is at least once): nothing changes.
    pipeline_dead_letters.handler(sqs_event(on_failure_record(event)))
    assert pipeline.get(pid) == item


def test_a_style_whose_request_got_through_is_left_to_its_answer(pipeline, endpoint):
    """A duplicate crop event exhausted its retries, but one delivery's request reached the
    endpoint for style-a: its answer is on the way, only style-b ends."""
    pid, crop_key = cropped(pipeline)
    pipeline.store.mark_style_swapping(pid, STYLES[0], keys.inference_id(pid, STYLES[0]))
    out = f"s3://{BUCKET}/{keys.INFERENCE_OUT}{keys.inference_id(pid, STYLES[0])}.out"
    pipeline.store.record_output_locations(pid, STYLES[0], out, None)

    pipeline_dead_letters.handler(sqs_event(on_failure_record(s3_event(crop_key))))
    item = pipeline.get(pid)
    assert item["styles"][STYLES[0]]["status"] == StyleStatus.SWAPPING
    assert item["styles"][STYLES[1]]["status"] == StyleStatus.FAILED
    assert item["status"] == Status.SWAPPING  # still waiting for style-a's answer


def test_a_completion_whose_retries_are_exhausted_ends_its_style_failed(pipeline, monkeypatch):
    pid, _ = cropped(pipeline)
    for rid in STYLES:
        pipeline.store.mark_style_swapping(pid, rid, keys.inference_id(pid, rid))
    note = inference_notification(pid, STYLES[0], output_key=f"{keys.INFERENCE_OUT}x.out")
    event = sns_event(note)

    fail_three_deliveries(
        monkeypatch, face_swap_completion.handler, event, "get_object", "SlowDown", "GetObject"
    )

    pipeline_dead_letters.handler(sqs_event(on_failure_record(event, "EventAgeExceeded")))
    item = pipeline.get(pid)
    assert item["styles"][STYLES[0]]["status"] == StyleStatus.FAILED
    assert item["styles"][STYLES[1]]["status"] == StyleStatus.SWAPPING
    assert item["status"] == Status.SWAPPING


def exhaust_the_crop(pipeline, monkeypatch) -> tuple[str, dict]:
    """An upload whose crop fails three deliveries running: S3 answers 503 to every read (the
    first try and Lambda's 2 retries), which the handler lets fail so that Lambda retries."""
    process = pipeline.upload(hostile.jpeg(hostile.astronaut()))
    event = s3_event(process["sourceKey"])

    fail_three_deliveries(monkeypatch, face_crop.handler, event, "head_object", "503", "HeadObject")
    return process["processId"], event


def fail_three_deliveries(monkeypatch, handler, event, method: str, code: str, operation: str):
    """The handler run on `event` three times (the first try and Lambda's 2 retries) while S3's
    `method` answers the error `code`: each run raises it, so that Lambda would retry."""

    def failing(**_):
        raise aws.client("s3").exceptions.ClientError(
            {"Error": {"Code": code, "Message": f"injected {code}"}}, operation
        )

    with monkeypatch.context() as patched:
        patched.setattr(aws.client("s3"), method, failing)
        for _attempt in range(3):
            with pytest.raises(Exception, match=f"injected {code}"):
                handler(event)


def test_an_upload_whose_crop_exhausts_its_retries_ends_failed_with_a_reason(pipeline, monkeypatch):
    pid, event = exhaust_the_crop(pipeline, monkeypatch)
    assert pipeline.get(pid)["status"] == Status.CREATED  # what used to stay forever

    answer = pipeline_dead_letters.handler(sqs_event(on_failure_record(event)))
    assert answer == {"batchItemFailures": []}
    item = pipeline.get(pid)
    assert item["status"] == Status.FAILED
    assert item["error"] == {
        "code": "CROP_FAILED",
        "message": "Your photo could not be processed; please try again later.",
    }
    assert not pipeline.exists(keys.crop_key(USER, pid))
    # Delivered again (SQS is at least once): nothing changes.
    pipeline_dead_letters.handler(sqs_event(on_failure_record(event, "EventAgeExceeded")))
    assert pipeline.get(pid) == item


def test_an_upload_cropped_after_all_is_left_to_go_on(pipeline, monkeypatch):
    """A duplicate upload event exhausted its retries while another delivery cropped it: the
    process is past CREATED and goes on to its swaps."""
    pid, event = exhaust_the_crop(pipeline, monkeypatch)
    face_crop.handler(event)  # S3 is back: this delivery crops
    assert pipeline.get(pid)["status"] == Status.CROPPED
    pipeline_dead_letters.handler(sqs_event(on_failure_record(event)))
    assert pipeline.get(pid)["status"] == Status.CROPPED


def test_unreadable_or_foreign_dead_letters_change_nothing(pipeline):
    pid, _ = cropped(pipeline)
    before = pipeline.get(pid)
    answer = pipeline_dead_letters.handler(
        sqs_event(
            "not json",
            "[1, 2]",
            on_failure_record(s3_event(keys.crop_key("someone-else", pid))),
            on_failure_record(s3_event(f"uploads/{USER}/{pid}.jpg")),  # cropped already
            on_failure_record(s3_event(f"uploads/someone-else/{pid}.jpg")),
            on_failure_record(s3_event("uploads/readme.txt")),
            on_failure_record(sns_event("{}")),
        )
    )
    assert answer == {"batchItemFailures": []}
    assert pipeline.get(pid) == before


def test_a_plain_dead_letter_message_is_the_event_itself(pipeline, endpoint):
    """The local runtime's DLQ holds the event as the function received it."""
    pid, crop_key = cropped(pipeline)
    pipeline_dead_letters.handler(sqs_event(s3_event(crop_key)))
    assert pipeline.get(pid)["status"] == Status.FAILED
