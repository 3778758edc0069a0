"""The album API function against moto (decorator mode): the handler exactly as API Gateway
invokes it, the table and buckets created as stacks/albums declares them."""

from __future__ import annotations

import json

import album_api
import boto3
import pytest
from moto import mock_aws

from faceflow.storage import albums
from faceflow.storage import table as album_table
from tests.album_resources import BUCKETS, ENV, TABLE, create_album_resources

ALICE, BOB = "1f0c6a6e-0000-4000-8000-00000000a11c", "2e1d7b7f-0000-4000-8000-000000000b0b"
SHA = "ab" * 32


@pytest.fixture
def aws(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        yield


def call(
    method: str, resource: str, sub: str | None, body=None, query=None, handler=None, **params
):
    """The API function's `handler` (album_api's unless given) invoked as API Gateway would."""
    path = resource
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    event = {
        "httpMethod": method,
        "resource": resource,
        "path": path,
        "pathParameters": params or None,
        "queryStringParameters": query,
        "headers": {"Content-Type": "application/json", "Origin": "http://localhost:8000"},
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {
            "stage": "prod",
            "authorizer": {"claims": {"sub": sub}} if sub else None,
        },
    }
    response = (handler or album_api.handler)(event, None)
    headers = {
        **response.get("headers", {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    return response["statusCode"], json.loads(response["body"] or "null"), headers


def new_album(sub: str = ALICE, name: str = "Trip") -> str:
    status, body, _ = call("POST", "/albums", sub, {"name": name})
    assert status == 201, body
    return body["albumId"]


def test_create_and_list_albums_newest_first_paginated(aws):
    first, second = new_album(name="One"), new_album(name="Two")
    status, page, headers = call("GET", "/albums", ALICE, query={"limit": "1"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert [a["albumId"] for a in page["items"]] == [second]
    assert page["items"][0] == {
        "albumId": second,
        "name": "Two",
        "createdAt": page["items"][0]["createdAt"],
        "photoCount": 0,
    }
    status, rest, _ = call("GET", "/albums", ALICE, query={"nextToken": page["nextToken"]})
    assert [a["albumId"] for a in rest["items"]] == [first]
    # A token is only good in the partition it came from.
    status, body, _ = call("GET", "/albums", BOB, query={"nextToken": page["nextToken"]})
    assert status == 400 and body["error"]["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": ""}, 400, "VALIDATION_ERROR"),
        ({"name": "x" * 101}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
        ({"name": "ok", "extra": 1}, 400, "VALIDATION_ERROR"),
    ],
)
def test_bad_album_bodies_get_400_in_the_error_shape(aws, body, status, code):
    got, answer, headers = call("POST", "/albums", ALICE, body)
    assert (got, set(answer), answer["error"]["code"]) == (status, {"error"}, code)
    assert headers["Access-Control-Allow-Origin"] == "*"  # the browser may read the error


def test_no_claims_is_401(aws):
    status, body, _ = call("GET", "/albums", None)
    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"


def test_upload_tickets_put_multipart_and_refusals(aws, monkeypatch):
    album = new_album()
    status, small, _ = call(
        "POST",
        "/albums/{albumId}/uploadUrl",
        ALICE,
        {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 1000},
        albumId=album,
    )
    assert status == 201 and small["upload"]["method"] == "PUT"
    assert small["upload"]["headers"] == {"Content-Type": "image/jpeg"}
    status, big, _ = call(
        "POST",
        "/albums/{albumId}/uploadUrl",
        ALICE,
        {"fileName": "b.png", "contentType": "image/png", "size": 12 * 1024 * 1024},
        albumId=album,
    )
    assert status == 201 and big["upload"]["method"] == "MULTIPART"
    assert [p["partNumber"] for p in big["upload"]["parts"]] == [1, 2, 3]
    monkeypatch.setenv("ALBUM_MAX_PHOTO_BYTES", str(20 * 1024 * 1024))  # a deployment's own
    refused = [
        ({"fileName": "c.gif", "contentType": "image/gif", "size": 10}, 415),
        ({"fileName": "d.jpg", "contentType": "image/jpeg", "size": 21 * 1024 * 1024}, 413),
        # Above what any deployment takes: the document's maximum.
        ({"fileName": "d.jpg", "contentType": "image/jpeg", "size": 51 * 1024 * 1024}, 400),
        ({"fileName": "e.jpg", "contentType": "image/jpeg", "size": 0}, 400),
        ({"fileName": "f.jpg", "contentType": "image/jpeg", "size": 5, "sha256": "nope"}, 400),
    ]
    for body, expected in refused:
        status, answer, _ = call("POST", "/albums/{albumId}/uploadUrl", ALICE, body, albumId=album)
        assert status == expected, (body, answer)
    _, listed, _ = call("GET", "/albums", ALICE)
    assert listed["items"][0]["photoCount"] == 2


def test_a_known_sha256_returns_the_existing_photo_and_no_upload(aws):
    album = new_album()
    body = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 1000, "sha256": SHA}
    status, first, _ = call("POST", "/albums/{albumId}/uploadUrl", ALICE, body, albumId=album)
    assert status == 201
    status, again, _ = call(
        "POST", "/albums/{albumId}/uploadUrl", ALICE, {**body, "sha256": SHA.upper()}, albumId=album
    )
    assert status == 200
    assert again == {"photoId": first["photoId"], "duplicateOf": first["photoId"], "upload": None}
    # Another album of the same user knows nothing of it.
    other = new_album(name="Other")
    status, _, _ = call("POST", "/albums/{albumId}/uploadUrl", ALICE, body, albumId=other)
    assert status == 201


def test_another_user_learns_nothing(aws):
    album = new_album()
    _, ticket, _ = call(
        "POST",
        "/albums/{albumId}/uploadUrl",
        ALICE,
        {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 10},
        albumId=album,
    )
    photo = ticket["photoId"]
    routes = [
        ("GET", "/albums/{albumId}/photos", None, {}),
        ("GET", "/albums/{albumId}/status", None, {}),
        ("DELETE", "/albums/{albumId}", None, {}),
        (
            "POST",
            "/albums/{albumId}/uploadUrl",
            {"fileName": "x.jpg", "contentType": "image/jpeg", "size": 10},
            {},
        ),
        ("GET", "/albums/{albumId}/photos/{photoId}/upload", None, {"photoId": photo}),
        (
            "POST",
            "/albums/{albumId}/photos/{photoId}/complete",
            {"parts": [{"partNumber": 1, "etag": "x"}]},
            {"photoId": photo},
        ),
    ]
    missing = "0123456789abcdef"
    for method, resource, body, extra in routes:
        theirs = call(method, resource, BOB, body, albumId=album, **extra)
        nobody = call(method, resource, BOB, body, albumId=missing, **extra)
        assert theirs[0] == 404 and theirs[1] == nobody[1], (method, resource)
    assert albums.get_album(ALICE, album).photo_count == 1


def test_delete_removes_every_object_and_item_and_then_answers_404(aws):
    album = new_album()
    s3 = boto3.client("s3")
    for bucket in BUCKETS.values():
        s3.put_object(Bucket=bucket, Key=f"tenant/{ALICE}/{album}/x/y.bin", Body=b"1")
    s3.put_object(Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=f"tenant/{ALICE}/keep/y.bin", Body=b"1")
    call(
        "POST",
        "/albums/{albumId}/uploadUrl",
        ALICE,
        {"fileName": "b.png", "contentType": "image/png", "size": 6 * 1024 * 1024, "sha256": SHA},
        albumId=album,
    )
    status, body, _ = call("DELETE", "/albums/{albumId}", ALICE, albumId=album)
    assert (status, body) == (202, {"albumId": album})
    for bucket in BUCKETS.values():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert not [k for k in keys if f"/{album}/" in k]
        assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert s3.head_object(Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=f"tenant/{ALICE}/keep/y.bin")
    items = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    assert items == []
    assert call("DELETE", "/albums/{albumId}", ALICE, albumId=album)[0] == 404


def test_user_erasure_erases_every_album_of_the_user_only(aws):
    mine = [new_album(), new_album()]
    theirs = new_album(BOB)
    assert albums.erase_user_albums(ALICE) == {"albums": 2}
    assert albums.list_albums(ALICE, 10, None)[0] == []
    assert [a.album_id for a in albums.list_albums(BOB, 10, None)[0]] == [theirs]
    for album in mine:
        assert list(album_table.album_items(album)) == []
