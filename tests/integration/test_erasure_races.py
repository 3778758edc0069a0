"""Erasure racing the pipeline (issue 18, item 1): whatever stage a photo has reached when its
user asks for erasure, once the pipeline's remaining events have been delivered (twice, as
at-least-once delivery may), nothing of the user is left in the bucket or the tables, and no GPU
work starts for an erased process.

Erasure is injected at the AWS boundary: between handlers, or from a botocore hook on the exact
call a handler is making (the S3 write of a crop, the endpoint call, the result copy, the Display
row), which is where a concurrent DELETE lands in real life. The lagging byUser index is the
index answering without the process, at the same boundary."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import face_crop
import face_swap
import face_swap_completion
import pytest

from common import aws
from style_backend.domain.process import StyleStatus
from style_backend.edge import erasure
from style_backend.storage import keys
from style_backend.storage.display import DisplayStore
from style_backend.storage.processes import ProcessStore
from tests import hostile
from tests.integration.conftest import (
    BUCKET,
    DISPLAY_TABLE,
    PROCESS_TABLE,
    USER,
    inference_notification,
    s3_event,
    sns_event,
    styled_jpeg,
)

STYLE = "style-a"
TOMBSTONE_FIELDS = {"processId", "status", "erasedAt", "updatedAt", "ttl"}


def expect_invoke(endpoint, pid: str) -> None:
    inference_id = keys.inference_id(pid, STYLE)
    endpoint.add_response(
        "invoke_endpoint_async",
        {
            "InferenceId": inference_id,
            "OutputLocation": f"s3://{BUCKET}/{keys.INFERENCE_OUT}{inference_id}.out",
            "FailureLocation": f"s3://{BUCKET}/{keys.INFERENCE_FAILED}{inference_id}-error.out",
        },
    )


def erase() -> None:
    assert erasure.erase_user(USER)["objects"] >= 0


def erase_during(client: Any, event: str, when: Callable[[dict], bool] = lambda _: True) -> list:
    """Erase once, from inside the next botocore `event` on `client` whose keyword arguments
    (params before a call, the parsed answer after it) match `when`."""
    fired: list[bool] = []

    def hook(**kwargs):
        if not fired and when(kwargs):
            fired.append(True)
            client.meta.events.unregister(event, hook)
            erase()

    client.meta.events.register(event, hook)
    return fired


class Flow:
    """The pipeline's events for one process, delivered as S3, the endpoint and SNS would."""

    def __init__(self, pipeline, endpoint):
        self.pipeline, self.endpoint = pipeline, endpoint
        self.process = pipeline.upload(hostile.jpeg(hostile.astronaut()), styles=[STYLE])
        self.pid = self.process["processId"]
        self.crop_key = keys.crop_key(USER, self.pid)
        self.inference_id = keys.inference_id(self.pid, STYLE)
        self.output_key = f"{keys.INFERENCE_OUT}{self.inference_id}.out"

    def crop(self) -> None:
        face_crop.handler(s3_event(self.process["sourceKey"]))

    def swap(self) -> None:
        face_swap.handler(s3_event(self.crop_key))

    def endpoint_answers(self) -> None:
        """What SageMaker does once a request was accepted: output object, then the topic."""
        crop = self.pipeline.read(self.crop_key) if self.pipeline.exists(self.crop_key) else None
        body = styled_jpeg(crop) if crop else hostile.jpeg(hostile.astronaut())
        self.pipeline.s3.put_object(Bucket=BUCKET, Key=self.output_key, Body=body)

    def notify(self) -> None:
        note = inference_notification(self.pid, STYLE, output_key=self.output_key)
        face_swap_completion.handler(sns_event(note))

    def notify_failure(self) -> None:
        failure_key = f"{keys.INFERENCE_FAILED}{self.inference_id}-error.out"
        self.pipeline.s3.put_object(Bucket=BUCKET, Key=failure_key, Body=b'{"error": "boom"}')
        note = inference_notification(self.pid, STYLE, failure_reason="boom")
        note["responseParameters"]["failureLocation"] = f"s3://{BUCKET}/{failure_key}"
        face_swap_completion.handler(sns_event(note))

    def until_requested(self) -> None:
        """Cropped, and its style's request accepted by the endpoint."""
        self.crop()
        expect_invoke(self.endpoint, self.pid)
        self.swap()

    def deliver_rest_twice(self, *steps: Callable[[], None]) -> None:
        for _ in range(2):
            for step in steps:
                step()

    def remains(self) -> dict[str, list]:
        """Every object naming the user, the process or its inference; every item naming the
        user; every Process item that is more than a bare tombstone."""
        markers = (USER, self.pid, self.inference_id)
        objects = [
            o["Key"]
            for o in self.pipeline.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if any(m in o["Key"] for m in markers)
        ]
        ddb = boto3.resource("dynamodb")
        items = [
            item
            for name in (PROCESS_TABLE, DISPLAY_TABLE)
            for item in ddb.Table(name).scan()["Items"]
            if USER in json.dumps(item, default=str) or set(item) - TOMBSTONE_FIELDS
        ]
        return {"objects": objects, "items": items}


NOTHING = {"objects": [], "items": []}


@pytest.fixture
def flow(pipeline, endpoint) -> Flow:
    return Flow(pipeline, endpoint)


def test_erased_before_the_crop(flow):
    erase()
    flow.deliver_rest_twice(flow.crop, flow.swap)
    assert flow.remains() == NOTHING


def test_erased_while_the_crop_is_written(flow):
    """The crop lands after erasure listed crops/: face crop deletes it and the upload."""
    fired = erase_during(
        aws.client("s3"),
        "provide-client-params.s3.PutObject",
        lambda kw: kw["params"]["Key"] == flow.crop_key,
    )
    flow.crop()
    assert fired
    flow.deliver_rest_twice(flow.crop, flow.swap)  # no endpoint call expected
    assert flow.remains() == NOTHING


def test_erased_after_the_crop(flow):
    flow.crop()
    erase()
    flow.deliver_rest_twice(flow.swap)  # the crop event arrives after the erasure
    assert flow.remains() == NOTHING


def test_erased_before_the_index_shows_the_process(flow):
    """The byUser index lags its table: erasure does not see the process at all. Its marker
    still makes every later step remove what the process has and produces."""
    ddb = ProcessStore().table.meta.client

    def lagging_index(parsed, **_):
        parsed["Items"], parsed["Count"] = [], 0

    ddb.meta.events.register("after-call.dynamodb.Query", lagging_index)
    try:
        flow.crop()
        erase()
    finally:
        ddb.meta.events.unregister("after-call.dynamodb.Query", lagging_index)
    flow.deliver_rest_twice(flow.crop, flow.swap)
    assert flow.remains() == NOTHING


def test_erased_right_after_the_swap_claims_no_gpu_work_starts(flow):
    """Erasure just after the claim's write: the endpoint is never called (the stub has no
    answer: a call would fail the test)."""
    flow.crop()
    fired = erase_during(
        ProcessStore().table.meta.client,
        "after-call.dynamodb.UpdateItem",
        lambda kw: "claimedAt" in json.dumps(kw["parsed"].get("Attributes", {})),
    )
    flow.swap()
    assert fired
    flow.deliver_rest_twice(flow.swap)
    assert flow.remains() == NOTHING


def test_erased_while_the_request_goes_to_the_endpoint(flow):
    """The request was accepted (the GPU runs): the swap deletes its request, the completion
    deletes the answer when it comes."""
    flow.crop()
    expect_invoke(flow.endpoint, flow.pid)
    fired = erase_during(
        aws.client("sagemaker-runtime"),
        "before-parameter-build.sagemaker-runtime.InvokeEndpointAsync",
    )
    flow.swap()
    assert fired
    flow.endpoint_answers()
    flow.deliver_rest_twice(flow.swap, flow.notify)
    assert flow.remains() == NOTHING


def test_erased_while_the_style_is_on_the_gpu(flow):
    flow.until_requested()
    erase()
    flow.endpoint_answers()  # the output lands after the erasure
    flow.deliver_rest_twice(flow.notify)
    assert flow.remains() == NOTHING


def test_erased_while_the_style_is_on_the_gpu_that_then_fails(flow):
    flow.until_requested()
    erase()
    flow.deliver_rest_twice(flow.notify_failure)
    assert flow.remains() == NOTHING


def test_erased_after_the_inference_output(flow):
    flow.until_requested()
    flow.endpoint_answers()
    erase()
    flow.deliver_rest_twice(flow.notify)
    assert flow.remains() == NOTHING


@pytest.mark.parametrize(
    "event, when",
    [
        ("provide-client-params.s3.CopyObject", lambda kw: kw["params"]["Key"] != ""),
        (
            "provide-client-params.dynamodb.PutItem",
            lambda kw: kw["params"]["TableName"] == DISPLAY_TABLE,
        ),
    ],
    ids=["before-the-result-copy", "before-the-display-row"],
)
def test_erased_while_completing(flow, event, when):
    flow.until_requested()
    flow.endpoint_answers()
    client = aws.client("s3") if ".s3." in event else DisplayStore().table.meta.client
    fired = erase_during(client, event, when)
    flow.notify()
    assert fired
    flow.deliver_rest_twice(flow.notify)
    assert flow.remains() == NOTHING


def test_erased_after_completion(flow):
    flow.until_requested()
    flow.endpoint_answers()
    flow.notify()
    assert flow.pipeline.get(flow.pid)["styles"][STYLE]["status"] == StyleStatus.COMPLETED
    erase()
    flow.deliver_rest_twice(flow.crop, flow.swap, flow.notify)
    assert flow.remains() == NOTHING


def test_a_later_process_of_the_same_user_is_not_erased(flow, pipeline):
    """The marker covers what existed at the erasure only: a new upload runs normally."""
    erase()
    later = Flow(pipeline, flow.endpoint)
    later.crop()
    expect_invoke(flow.endpoint, later.pid)
    later.swap()
    later.endpoint_answers()
    later.notify()
    assert pipeline.get(later.pid)["status"] == "COMPLETED"
    assert pipeline.exists(keys.result_key(USER, later.pid, STYLE))
