import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests

from style_backend.storage.keys import parse_upload_key
from tests.integration.api.conftest import new_user

UPLOAD = "/apis/images/upload"


def _policy(fields: dict) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def test_upload_creates_the_process_and_a_presigned_post(api, styles, agreed):
    before = datetime.now(UTC)
    reply = api.call(
        "POST",
        UPLOAD,
        agreed,
        {"contentType": "image/png", "resourceIds": ["street-f-light", "retro-m-dark"]},
    )
    assert reply.status == 201, reply.json
    ticket = reply.json
    process_id = ticket["processId"]
    key = f"uploads/{agreed}/{process_id}.png"
    assert parse_upload_key(key).user_id == agreed  # the face crop can read it back
    assert ticket["expiresIn"] == 300
    assert ticket["upload"]["fields"]["key"] == key
    assert ticket["upload"]["fields"]["Content-Type"] == "image/png"

    policy = _policy(ticket["upload"]["fields"])
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert {"key": key} in conditions  # exact key, not a starts-with
    assert {"bucket": "style-base-test"} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(seconds=290) <= expires - before <= timedelta(seconds=310)

    item = (
        boto3.resource("dynamodb").Table("Process").get_item(Key={"processId": process_id})["Item"]
    )
    assert item["userId"] == agreed
    assert item["status"] == "CREATED"
    assert item["sourceKey"] == key
    assert item["resourceIds"] == ["street-f-light", "retro-m-dark"]
    assert set(item["styles"]) == {"street-f-light", "retro-m-dark"}


@pytest.mark.parametrize(
    ("kind", "extension"), [("image/heic", "heic"), ("image/heif", "heif"), ("image/avif", "avif")]
)
def test_a_phone_selfie_gets_a_policy_for_its_own_type(api, styles, agreed, kind, extension):
    body = {"contentType": kind, "resourceIds": ["gala-f-medium"]}
    reply = api.call("POST", UPLOAD, agreed, body)
    assert reply.status == 201, reply.json
    fields = reply.json["upload"]["fields"]
    assert fields["key"].endswith(f".{extension}") and fields["Content-Type"] == kind
    assert {"Content-Type": kind} in _policy(fields)["conditions"]  # S3 refuses another type
    assert parse_upload_key(fields["key"]).user_id == agreed  # the face crop can read it back


def test_the_presigned_post_puts_the_file_where_face_crop_expects_it(api, styles, agreed):
    """moto does not check policies (real S3 does): this checks the form is complete."""
    ticket = api.call(
        "POST", UPLOAD, agreed, {"contentType": "image/jpeg", "resourceIds": ["gala-f-medium"]}
    ).json
    upload = ticket["upload"]
    answer = requests.post(upload["url"], data=upload["fields"], files={"file": b"\xff\xd8selfie"})
    assert answer.status_code == 204
    key = upload["fields"]["key"]
    assert boto3.client("s3").get_object(Bucket="style-base-test", Key=key)["Body"].read() == (
        b"\xff\xd8selfie"
    )


def test_max_upload_size_comes_from_configuration(api, styles, agreed, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "2048")
    ticket = api.call(
        "POST", UPLOAD, agreed, {"contentType": "image/webp", "resourceIds": ["street-f-light"]}
    ).json
    assert ["content-length-range", 1, 2048] in _policy(ticket["upload"]["fields"])["conditions"]
    assert ticket["upload"]["fields"]["key"].endswith(".webp")


def test_upload_without_consent_is_forbidden(api, styles):
    user = new_user()
    reply = api.call(
        "POST", UPLOAD, user, {"contentType": "image/jpeg", "resourceIds": ["street-f-light"]}
    )
    assert (reply.status, reply.error_code) == (403, "CONSENT_REQUIRED")
    assert boto3.client("dynamodb").scan(TableName="Process")["Count"] == 0


def test_consent_to_old_terms_is_not_enough(api, styles, agreed, monkeypatch):
    monkeypatch.setenv("TERMS_VERSION", "2027-01-01")
    reply = api.call(
        "POST", UPLOAD, agreed, {"contentType": "image/jpeg", "resourceIds": ["street-f-light"]}
    )
    assert (reply.status, reply.error_code) == (403, "CONSENT_REQUIRED")


@pytest.mark.parametrize(
    "resource_ids", [["no-such-style"], ["street-f-light", "no-such-style"], ["retired-f-light"]]
)
def test_unknown_or_inactive_styles_are_refused(api, styles, agreed, resource_ids):
    reply = api.call(
        "POST", UPLOAD, agreed, {"contentType": "image/jpeg", "resourceIds": resource_ids}
    )
    assert (reply.status, reply.error_code) == (409, "UNKNOWN_STYLE")  # issue 18: schema-valid
    assert resource_ids[-1] in reply.json["error"]["message"]
    assert boto3.client("dynamodb").scan(TableName="Process")["Count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (
            {"contentType": "image/gif", "resourceIds": ["a"]},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "contentType",
        ),
        ({"contentType": 7, "resourceIds": ["a"]}, 400, "VALIDATION_ERROR", "must be a string"),
        ({"contentType": "image/jpeg", "resourceIds": []}, 400, "VALIDATION_ERROR", "at least 1"),
        (
            {"contentType": "image/jpeg", "resourceIds": ["a", "b", "c", "d", "e"]},
            400,
            "VALIDATION_ERROR",
            "at most 4",
        ),
        (
            {"contentType": "image/jpeg", "resourceIds": ["a", "a"]},
            400,
            "VALIDATION_ERROR",
            "repeat",
        ),
        ({"contentType": "image/jpeg", "resourceIds": "a"}, 400, "VALIDATION_ERROR", "an array"),
        (
            {"contentType": "image/jpeg", "resourceIds": [1]},
            400,
            "VALIDATION_ERROR",
            "resourceIds/0",
        ),
        ({"contentType": "image/jpeg", "resourceIds": ["../x"]}, 400, "VALIDATION_ERROR", "match"),
        ({"contentType": "image/jpeg"}, 400, "VALIDATION_ERROR", "resourceIds: is required"),
        ("[1, 2", 400, "INVALID_JSON", "not valid JSON"),
    ],
)
def test_bad_upload_requests_get_clear_errors(api, styles, agreed, body, status, code, message):
    reply = api.call("POST", UPLOAD, agreed, body, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.error_code) == (status, code)
    assert message in reply.json["error"]["message"]
