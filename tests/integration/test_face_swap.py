"""Face swap handler: request JSON, InvokeEndpointAsync (botocore Stubber on the
sagemaker-runtime client: the AWS boundary; moto answers every call with success), retries."""

import base64
import json

import face_swap
import pytest
from botocore.exceptions import ClientError

from common import aws
from style_backend.domain import swap
from style_backend.domain.process import Status, StyleStatus
from style_backend.edge import face_swap as swap_step
from style_backend.storage import keys
from tests import hostile
from tests.integration.conftest import BUCKET, ENDPOINT, STYLES, USER, s3_event


def locations(process_id, resource_id):
    """Where SageMaker announces it will write (it names objects after the inference id)."""
    inference_id = keys.inference_id(process_id, resource_id)
    return {
        "OutputLocation": f"s3://{BUCKET}/{keys.INFERENCE_OUT}{inference_id}.out",
        "FailureLocation": f"s3://{BUCKET}/{keys.INFERENCE_FAILED}{inference_id}-error.out",
    }


def expect_invoke(endpoint, process_id, resource_id):
    endpoint.add_response(
        "invoke_endpoint_async",
        {"InferenceId": keys.inference_id(process_id, resource_id)}
        | locations(process_id, resource_id),
        expected_params={
            "EndpointName": ENDPOINT,
            "InputLocation": f"s3://{BUCKET}/{keys.inference_request_key(process_id, resource_id)}",
            "ContentType": "application/json",
            "InferenceId": keys.inference_id(process_id, resource_id),
        },
    )


def expect_error(endpoint, code, status):
    endpoint.add_client_error(
        "invoke_endpoint_async", service_error_code=code, http_status_code=status
    )


def inline(pipeline, key: str) -> str:
    return base64.b64encode(pipeline.read(key)).decode()


def cropped(pipeline, styles=STYLES):
    """A process whose crop exists and whose status is CROPPED (the crop handler's work)."""
    process = pipeline.create(styles)
    crop_key = keys.crop_key(USER, process["processId"])
    pipeline.s3.put_object(Bucket=BUCKET, Key=crop_key, Body=hostile.png(hostile.astronaut()))
    pipeline.store.mark_cropped(process["processId"], crop_key)
    return process["processId"], crop_key


def test_each_style_gets_its_request_and_one_invocation(pipeline, endpoint):
    pid, crop_key = cropped(pipeline)
    for style in STYLES:
        expect_invoke(endpoint, pid, style)
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["status"] == Status.SWAPPING
    for style in STYLES:
        where = locations(pid, style)
        claimed = item["styles"][style].pop("claimedAt")
        assert item["createdAt"] <= claimed <= item["updatedAt"]  # ISO times sort as text
        assert item["styles"][style] == {
            "status": StyleStatus.SWAPPING,
            "inferenceId": keys.inference_id(pid, style),
            "outputLocation": where["OutputLocation"],
            "failureLocation": where["FailureLocation"],
        }
        # Both images inline: the network-isolated container reads nothing itself.
        request = json.loads(pipeline.read(keys.inference_request_key(pid, style)))
        assert request == {
            "source": {"b64": inline(pipeline, crop_key)},
            "target": {"b64": inline(pipeline, keys.base_key(style))},
            "options": {},
            "processId": pid,
            "resourceId": style,
        }


def test_duplicate_event_invokes_nothing_more(pipeline, endpoint):
    pid, crop_key = cropped(pipeline)
    for style in STYLES:
        expect_invoke(endpoint, pid, style)
    face_swap.handler(s3_event(crop_key))
    first = pipeline.get(pid)
    face_swap.handler(s3_event(crop_key))  # the Stubber fails on any unexpected call
    assert pipeline.get(pid) == first


def test_throttling_is_retried_then_succeeds(pipeline, endpoint):
    pid, crop_key = cropped(pipeline, ["style-a"])
    expect_error(endpoint, "ThrottlingException", 400)
    expect_error(endpoint, "ServiceUnavailable", 503)
    expect_invoke(endpoint, pid, "style-a")
    face_swap.handler(s3_event(crop_key))
    assert pipeline.get(pid)["styles"]["style-a"]["status"] == StyleStatus.SWAPPING


def test_persistent_throttling_raises_for_the_async_retry_and_the_retry_resumes(pipeline, endpoint):
    pid, crop_key = cropped(pipeline)
    expect_invoke(endpoint, pid, "style-a")
    for _ in range(swap_step.RETRY_ATTEMPTS):
        expect_error(endpoint, "ThrottlingException", 400)
    with pytest.raises(ClientError):
        face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["status"] == StyleStatus.SWAPPING
    assert item["styles"]["style-b"]["status"] == StyleStatus.PENDING
    # Lambda's async retry delivers the same event: only the pending style is requested.
    expect_invoke(endpoint, pid, "style-b")
    face_swap.handler(s3_event(crop_key))
    assert pipeline.get(pid)["styles"]["style-b"]["status"] == StyleStatus.SWAPPING


def test_permanent_error_fails_that_style_only(pipeline, endpoint):
    pid, crop_key = cropped(pipeline)
    expect_error(endpoint, "ValidationError", 400)
    expect_invoke(endpoint, pid, "style-b")
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["status"] == StyleStatus.FAILED
    assert item["styles"]["style-a"]["error"]["code"] == "SWAP_FAILED"
    assert item["styles"]["style-b"]["status"] == StyleStatus.SWAPPING
    assert item["status"] == Status.SWAPPING


def test_permanent_error_on_every_style_fails_the_process(pipeline, endpoint):
    pid, crop_key = cropped(pipeline, ["style-a"])
    expect_error(endpoint, "ValidationError", 400)
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["status"] == Status.FAILED
    assert item["error"]["code"] == "SWAP_FAILED"


def test_missing_or_retired_style_fails_with_style_not_found(pipeline, endpoint):
    pid, crop_key = cropped(pipeline, ["retired", "no-such-style", "style-a"])
    expect_invoke(endpoint, pid, "style-a")
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    for style in ("retired", "no-such-style"):
        assert item["styles"][style]["error"]["code"] == "STYLE_NOT_FOUND"
        assert not pipeline.exists(keys.inference_request_key(pid, style))
    assert item["status"] == Status.SWAPPING


def test_a_style_whose_image_is_gone_fails_with_style_not_found_and_invokes_nothing(
    pipeline, endpoint
):
    pid, crop_key = cropped(pipeline, ["style-a"])
    image = pipeline.read(keys.base_key("style-a"))
    pipeline.s3.delete_object(Bucket=BUCKET, Key=keys.base_key("style-a"))
    try:
        face_swap.handler(s3_event(crop_key))  # no invocation expected: the Stubber has none
    finally:
        pipeline.s3.put_object(Bucket=BUCKET, Key=keys.base_key("style-a"), Body=image)
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["error"]["code"] == "STYLE_NOT_FOUND"
    assert item["status"] == Status.FAILED
    assert not pipeline.exists(keys.inference_request_key(pid, "style-a"))


def test_an_image_over_the_inline_limit_fails_that_style_with_file_too_large(
    pipeline, endpoint, monkeypatch
):
    pid, crop_key = cropped(pipeline, ["style-a"])
    monkeypatch.setattr(swap, "INFERENCE_IMAGE_MAX_BYTES", len(pipeline.read(crop_key)) - 1)
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["styles"]["style-a"]["error"]["code"] == "FILE_TOO_LARGE"
    assert not pipeline.exists(keys.inference_request_key(pid, "style-a"))


def test_only_retired_styles_fail_the_process_with_style_not_found(pipeline, endpoint):
    pid, crop_key = cropped(pipeline, ["retired"])
    face_swap.handler(s3_event(crop_key))
    item = pipeline.get(pid)
    assert item["status"] == Status.FAILED
    assert item["error"]["code"] == "STYLE_NOT_FOUND"


def test_crop_event_that_beats_the_crop_status_update(pipeline, endpoint):
    process = pipeline.create(["style-a"])
    pid = process["processId"]
    crop_key = keys.crop_key(USER, pid)
    pipeline.s3.put_object(Bucket=BUCKET, Key=crop_key, Body=hostile.png(hostile.astronaut()))
    expect_invoke(endpoint, pid, "style-a")
    face_swap.handler(s3_event(crop_key))  # status still CREATED: the crop exists, go on
    item = pipeline.get(pid)
    assert item["status"] == Status.SWAPPING and item["cropKey"] == crop_key
    # The crop handler's late status update then changes nothing.
    assert not pipeline.store.mark_cropped(pid, crop_key)


def test_crops_of_unknown_failed_or_foreign_processes_are_dropped(pipeline, endpoint):
    face_swap.handler(s3_event(keys.crop_key(USER, "no-such-process")))
    pid, crop_key = cropped(pipeline)
    face_swap.handler(s3_event(keys.crop_key("someone-else", pid)))
    face_swap.handler(s3_event(crop_key, bucket="another-bucket"))
    face_swap.handler(s3_event("crops/not-a-crop.jpg"))
    assert pipeline.get(pid)["status"] == Status.CROPPED
    from style_backend.domain.errors import Failure

    pipeline.store.mark_failed(pid, Failure("NO_FACE", "x"))
    face_swap.handler(s3_event(crop_key))
    assert pipeline.get(pid)["status"] == Status.FAILED


def test_a_delivery_racing_an_unanswered_request_invokes_nothing_and_is_retried(pipeline, endpoint):
    """A duplicate crop event delivered while the first delivery waits for the endpoint (run
    from a hook at the sagemaker-runtime boundary): the GPU must run once. The duplicate cannot
    tell a live claimant from a crashed one, so it raises for a retry rather than drop the
    event; the retry finds the request confirmed and does nothing."""
    pid, crop_key = cropped(pipeline, ["style-a"])
    expect_invoke(endpoint, pid, "style-a")  # one answer only: a second call would fail
    hooks = aws.client("sagemaker-runtime").meta.events
    nested = []

    def duplicate_delivery(**_):
        hooks.unregister(
            "before-parameter-build.sagemaker-runtime.InvokeEndpointAsync", duplicate_delivery
        )
        with pytest.raises(swap_step.ClaimNotConfirmed):
            face_swap.handler(s3_event(crop_key))
        nested.append(True)

    hooks.register(
        "before-parameter-build.sagemaker-runtime.InvokeEndpointAsync", duplicate_delivery
    )
    face_swap.handler(s3_event(crop_key))
    assert nested == [True]
    style = pipeline.get(pid)["styles"]["style-a"]
    assert style["outputLocation"] == locations(pid, "style-a")["OutputLocation"]
    face_swap.handler(s3_event(crop_key))  # the retry: confirmed now, nothing invoked


def test_a_claim_whose_claimant_crashed_mid_request_keeps_its_event_alive(pipeline, endpoint):
    """The claimant died between its claim and the endpoint's answer (no output location), and
    its lease has not run out: the next delivery must not drop the event as a duplicate (the
    style would stay SWAPPING for ever) but raise it back, so the retries go on until the lease
    runs out or the dead-letter function ends the style."""
    pid, crop_key = cropped(pipeline, ["style-a", "style-b"])
    pipeline.store.mark_style_swapping(pid, "style-a", keys.inference_id(pid, "style-a"))
    expect_invoke(endpoint, pid, "style-b")  # the other style is requested all the same
    with pytest.raises(swap_step.ClaimNotConfirmed, match="style-a"):
        face_swap.handler(s3_event(crop_key))
    styles = pipeline.get(pid)["styles"]
    assert styles["style-a"]["status"] == StyleStatus.SWAPPING
    assert "outputLocation" not in styles["style-a"]
    assert "outputLocation" in styles["style-b"]


def test_a_claim_abandoned_by_a_crash_is_requested_again_after_its_lease(pipeline, endpoint):
    pid, crop_key = cropped(pipeline, ["style-a"])
    pipeline.store.mark_style_swapping(pid, "style-a", keys.inference_id(pid, "style-a"))
    # The claimant crashed before the endpoint answered, and its lease has run out since.
    pipeline.store.table.update_item(
        Key={"processId": pid},
        UpdateExpression="SET styles.#r.claimedAt = :long_ago",
        ExpressionAttributeNames={"#r": "style-a"},
        ExpressionAttributeValues={":long_ago": "2020-01-01T00:00:00.000Z"},
    )
    expect_invoke(endpoint, pid, "style-a")
    face_swap.handler(s3_event(crop_key))
    style = pipeline.get(pid)["styles"]["style-a"]
    assert style["outputLocation"] == locations(pid, "style-a")["OutputLocation"]
    face_swap.handler(s3_event(crop_key))  # confirmed now: never requested a third time
