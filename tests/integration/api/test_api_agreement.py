import boto3
import pytest

from tests.integration.api.conftest import TERMS, new_user


def test_a_new_user_has_not_agreed(api):
    reply = api.call("GET", "/agree", new_user())
    assert reply.status == 200
    assert reply.json == {"agreed": False, "termsVersion": TERMS, "agreedAt": None}


def test_agreeing_records_consent_with_its_evidence(api):
    user = new_user()
    reply = api.call("POST", "/agree", user, {"termsVersion": TERMS})
    assert reply.status == 201
    assert reply.json["termsVersion"] == TERMS
    status = api.call("GET", "/agree", user).json
    assert status == {"agreed": True, "termsVersion": TERMS, "agreedAt": reply.json["agreedAt"]}
    item = (
        boto3.resource("dynamodb")
        .Table("UserAgreement")
        .get_item(Key={"userId": user, "termsVersion": TERMS})["Item"]
    )
    assert item["sourceIp"] == "127.0.0.1"
    assert item["userAgent"] == "pytest-client/1.0"


def test_agreeing_twice_keeps_the_first_record(api):
    user = new_user()
    first = api.call("POST", "/agree", user, {"termsVersion": TERMS}).json
    again = api.call("POST", "/agree", user, {"termsVersion": TERMS})
    assert again.status == 201
    assert again.json == first


def test_an_old_version_conflicts(api):
    reply = api.call("POST", "/agree", new_user(), {"termsVersion": "2020-01-01"})
    assert reply.status == 409
    assert reply.error_code == "TERMS_VERSION_MISMATCH"
    assert TERMS in reply.json["error"]["message"]


def test_bumping_the_terms_version_requires_agreeing_again(api, monkeypatch):
    user = new_user()
    api.call("POST", "/agree", user, {"termsVersion": TERMS})
    monkeypatch.setenv("TERMS_VERSION", "2027-01-01")
    assert api.call("GET", "/agree", user).json == {
        "agreed": False,
        "termsVersion": "2027-01-01",
        "agreedAt": None,
    }
    assert api.call("POST", "/agree", user, {"termsVersion": TERMS}).status == 409
    assert api.call("POST", "/agree", user, {"termsVersion": "2027-01-01"}).status == 201


@pytest.mark.parametrize(
    ("body", "status", "code", "where"),
    [
        ("{not json", 400, "INVALID_JSON", "not valid JSON"),
        ({}, 400, "VALIDATION_ERROR", "termsVersion: is required"),
        ({"termsVersion": 20261101}, 400, "VALIDATION_ERROR", "termsVersion: must be a string"),
        ({"termsVersion": ""}, 400, "VALIDATION_ERROR", "at least 1"),
        (
            {"termsVersion": TERMS, "admin": True},
            400,
            "VALIDATION_ERROR",
            "admin: is not an allowed",
        ),
        (["termsVersion"], 400, "VALIDATION_ERROR", "must be an object"),
        ("x" * 20000, 413, "PAYLOAD_TOO_LARGE", "exceeds"),
    ],
)
def test_bad_bodies_get_clear_errors(api, body, status, code, where):
    reply = api.call(
        "POST", "/agree", new_user(), body, headers={"Content-Type": "application/json"}
    )
    assert (reply.status, reply.error_code) == (status, code)
    assert where in reply.json["error"]["message"]


def test_a_body_that_is_not_json_is_unsupported(api):
    reply = api.call(
        "POST",
        "/agree",
        new_user(),
        f"termsVersion={TERMS}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (reply.status, reply.error_code) == (415, "UNSUPPORTED_MEDIA_TYPE")
