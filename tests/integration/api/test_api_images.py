"""Progress of a process and the paginated gallery of results."""

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from common.pagination import encode
from style_backend.domain.errors import Failure
from style_backend.storage import keys
from style_backend.storage.processes import ProcessStore
from tests.integration.api.conftest import BUCKET, new_user


def _process(user: str, styles=("street-f-light", "retro-m-dark")) -> str:
    return ProcessStore().create(
        user, list(styles), lambda pid: keys.upload_key(user, pid, "image/jpeg"), 30
    )["processId"]


def _results(user: str, count: int) -> list[str]:
    """`count` results as the completion function writes them, one minute apart; their
    resultIds newest first."""
    display = boto3.resource("dynamodb").Table("Display")
    s3 = boto3.client("s3")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids = []
    for i in range(count):
        created = (start + timedelta(minutes=i)).isoformat(timespec="milliseconds")[:-6] + "Z"
        process_id, resource_id = f"proc-{i:03d}", "street-f-light"
        result_key = keys.result_key(user, process_id, resource_id)
        s3.put_object(Bucket=BUCKET, Key=result_key, Body=b"jpeg")
        result_id = f"{created}#{process_id}#{resource_id}"
        display.put_item(
            Item={
                "userId": user,
                "resultId": result_id,
                "processId": process_id,
                "resourceId": resource_id,
                "resultKey": result_key,
                "createdAt": created,
            }
        )
        ids.append(result_id)
    return ids[::-1]


def _history(user: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table("DisplayHistory")
    return table.query(
        KeyConditionExpression="userId = :u", ExpressionAttributeValues={":u": user}
    )["Items"]


def test_progress_of_a_new_process(api):
    user = new_user()
    pid = _process(user)
    reply = api.call("GET", f"/apis/images/{user}/processes/{pid}", user)
    assert reply.status == 200
    assert reply.json == {
        "processId": pid,
        "status": "CREATED",
        "styles": {"street-f-light": {"status": "PENDING"}, "retro-m-dark": {"status": "PENDING"}},
    }


def test_progress_shows_result_urls_and_style_errors(api):
    user = new_user()
    store = ProcessStore()
    pid = _process(user)
    store.mark_cropped(pid, keys.crop_key(user, pid))
    store.mark_style_swapping(pid, "street-f-light", "i1")
    store.mark_style_swapping(pid, "retro-m-dark", "i2")
    store.finish_style(
        pid, "street-f-light", result_key=keys.result_key(user, pid, "street-f-light")
    )
    store.finish_style(pid, "retro-m-dark", failure=Failure("SWAP_FAILED", "The swap failed."))
    body = api.call("GET", f"/apis/images/{user}/processes/{pid}", user).json
    assert body["status"] == "COMPLETED"
    done = body["styles"]["street-f-light"]
    assert done["status"] == "COMPLETED"
    url = urlsplit(done["resultUrl"])
    assert url.path.endswith(f"/results/{user}/{pid}/street-f-light.jpg")
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]
    assert body["styles"]["retro-m-dark"] == {
        "status": "FAILED",
        "error": {"code": "SWAP_FAILED", "message": "The swap failed."},
    }
    assert "inferenceId" not in json.dumps(body)  # internals stay internal


def test_progress_of_a_failed_process_carries_its_reason(api):
    user = new_user()
    pid = _process(user)
    ProcessStore().mark_failed(pid, Failure("NO_FACE", "No face was found in the photo."))
    body = api.call("GET", f"/apis/images/{user}/processes/{pid}", user).json
    assert body["status"] == "FAILED"
    assert body["error"] == {"code": "NO_FACE", "message": "No face was found in the photo."}


def test_someone_elses_process_under_your_own_path_is_not_found(api):
    alice, bob = new_user(), new_user()
    pid = _process(alice)
    reply = api.call("GET", f"/apis/images/{bob}/processes/{pid}", bob)
    assert (reply.status, reply.error_code) == (404, "NOT_FOUND")
    missing = api.call("GET", f"/apis/images/{bob}/processes/no-such-process", bob)
    assert (missing.status, missing.json) == (404, reply.json)  # indistinguishable


def test_results_are_listed_newest_first_across_pages(api):
    user = new_user()
    expected = _results(user, 7)
    _results(new_user(), 3)  # someone else's never show up
    seen, token, pages = [], None, 0
    while True:
        query = "?limit=3" + (f"&nextToken={token}" if token else "")
        reply = api.call("GET", f"/apis/images/{user}{query}", user)
        assert reply.status == 200, reply.json
        pages += 1
        seen += [item["resultId"] for item in reply.json["items"]]
        token = reply.json.get("nextToken")
        if not token:
            break
    assert seen == expected
    assert pages == 3
    first = api.call("GET", f"/apis/images/{user}?limit=1", user).json["items"][0]
    assert first["processId"] == "proc-006"
    assert first["resourceId"] == "street-f-light"
    assert first["createdAt"] == "2026-11-01T00:06:00.000Z"
    assert urlsplit(first["url"]).path.endswith(f"/results/{user}/proc-006/street-f-light.jpg")


def test_default_page_size_is_twenty(api):
    user = new_user()
    _results(user, 21)
    body = api.call("GET", f"/apis/images/{user}", user).json
    assert len(body["items"]) == 20
    assert "nextToken" in body


def test_listing_records_what_was_shown(api):
    user = new_user()
    expected = _results(user, 4)
    api.call("GET", f"/apis/images/{user}?limit=3", user)
    history = _history(user)
    assert sorted(h["resultId"] for h in history) == sorted(expected[:3])
    for row in history:
        assert row["shownAt"].endswith("#" + row["resultId"])
        days = (int(row["ttl"]) - datetime.now(UTC).timestamp()) / 86400
        assert 89.9 < days <= 90


def test_an_empty_gallery(api):
    user = new_user()
    assert api.call("GET", f"/apis/images/{user}", user).json == {"items": []}
    assert _history(user) == []


def test_a_token_for_another_user_is_refused(api):
    alice, bob = new_user(), new_user()
    _results(alice, 3)
    token = api.call("GET", f"/apis/images/{alice}?limit=1", alice).json["nextToken"]
    reply = api.call("GET", f"/apis/images/{bob}?nextToken={token}", bob)
    assert (reply.status, reply.error_code) == (400, "INVALID_TOKEN")
    forged = encode({"userId": alice, "resultId": "z"})
    assert api.call("GET", f"/apis/images/{bob}?nextToken={forged}", bob).status == 400


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "VALIDATION_ERROR"),
        ("limit=51", "VALIDATION_ERROR"),
        ("limit=ten", "VALIDATION_ERROR"),
        ("nextToken=%%%", "INVALID_TOKEN"),
        ("nextToken=" + base64.urlsafe_b64encode(b"[1,2]").decode(), "INVALID_TOKEN"),
        ("nextToken=" + base64.urlsafe_b64encode(b'{"userId": 1}').decode(), "INVALID_TOKEN"),
    ],
)
def test_bad_listing_queries(api, query, code):
    user = new_user()
    reply = api.call("GET", f"/apis/images/{user}?{query}", user)
    assert (reply.status, reply.error_code) == (400, code)
