import uuid

import boto3
import pytest
from moto import mock_aws

from style_backend.domain.errors import Failure
from style_backend.domain.process import Status, StyleStatus
from style_backend.storage.display import DisplayStore
from style_backend.storage.keys import result_id
from style_backend.storage.processes import ProcessStore


@pytest.fixture
def store():
    # Unique names: another session-wide moto backend may already hold a "Process" table.
    with mock_aws():
        name = f"Process-{uuid.uuid4().hex}"
        boto3.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "processId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "processId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield ProcessStore(name)


def _new(store, styles=("a", "b")):
    return store.create("user-1", list(styles), lambda pid: f"uploads/user-1/{pid}.jpg", 30)


def test_happy_path_transitions_once_each(store):
    pid = _new(store)["processId"]
    assert store.mark_cropped(pid, "crops/x.png")
    assert not store.mark_cropped(pid, "crops/x.png")  # duplicate event
    assert store.mark_style_swapping(pid, "a", "id-a")
    assert not store.mark_style_swapping(pid, "a", "id-a")
    assert store.mark_style_swapping(pid, "b", "id-b")
    assert store.get(pid)["status"] == Status.SWAPPING
    assert store.finish_style(pid, "a", result_key="results/a.jpg")
    assert store.finish_style(pid, "a", result_key="results/a.jpg") is None
    assert store.get(pid)["status"] == Status.SWAPPING
    store.finish_style(pid, "b", failure=Failure("SWAP_FAILED", "boom"))
    item = store.get(pid)
    assert item["status"] == Status.COMPLETED
    assert item["styles"]["a"].pop("claimedAt") >= item["createdAt"]
    assert item["styles"]["a"] == {
        "status": StyleStatus.COMPLETED,
        "inferenceId": "id-a",
        "resultKey": "results/a.jpg",
    }
    assert item["styles"]["b"]["error"]["code"] == "SWAP_FAILED"


def test_all_styles_failing_fails_the_process(store):
    pid = _new(store, ["a"])["processId"]
    store.mark_cropped(pid, "k")
    store.mark_style_swapping(pid, "a", "i")
    store.finish_style(pid, "a", failure=Failure("SWAP_FAILED", "x"))
    item = store.get(pid)
    assert item["status"] == Status.FAILED
    assert item["error"]["code"] == "SWAP_FAILED"


def test_failure_is_recorded_once_and_never_overrides_completion(store):
    pid = _new(store, ["a"])["processId"]
    assert store.mark_failed(pid, Failure("NO_FACE", "No face found."))
    assert not store.mark_failed(pid, Failure("NO_FACE", "No face found."))
    assert not store.mark_cropped(pid, "k")
    assert store.get(pid)["error"] == {"code": "NO_FACE", "message": "No face found."}
    assert not store.mark_failed("missing", Failure("X", "y"))


def test_every_style_missing_fails_the_process_with_that_reason(store):
    pid = _new(store, ["a", "b"])["processId"]
    store.mark_cropped(pid, "k")
    for style in ("a", "b"):
        store.finish_style(pid, style, failure=Failure("STYLE_NOT_FOUND", "gone"))
    assert store.get(pid)["error"]["code"] == "STYLE_NOT_FOUND"


def test_mixed_style_failures_fail_the_process_as_swap_failed(store):
    pid = _new(store, ["a", "b"])["processId"]
    store.mark_cropped(pid, "k")
    store.finish_style(pid, "a", failure=Failure("STYLE_NOT_FOUND", "gone"))
    store.finish_style(pid, "b", failure=Failure("SWAP_FAILED", "boom"))
    assert store.get(pid)["error"]["code"] == "SWAP_FAILED"


def test_display_row_is_added_once_with_a_deterministic_id(store):
    display_table = f"Display-{uuid.uuid4().hex}"
    boto3.client("dynamodb").create_table(
        TableName=display_table,
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "resultId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "resultId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    process = _new(store, ["a"])
    display = DisplayStore(display_table)
    assert display.add(process, "a", "results/user-1/p/a.jpg")
    assert not display.add(process, "a", "results/user-1/p/a.jpg")
    rows = display.table.scan()["Items"]
    assert [r["resultId"] for r in rows] == [f"{process['createdAt']}#{process['processId']}#a"]
    assert result_id("2026-01-01T00:00:00.000Z", "p", "a") < result_id(
        "2026-01-02T00:00:00.000Z", "p", "a"
    )
