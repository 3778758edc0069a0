"""Sharing against moto (decorator mode): the share API function as API Gateway invokes it, the
exporter as SQS invokes it with the queue's own messages, the signed URLs checked by the local
CloudFront's verifier (local/cloudfront.py, what `make up` serves), the emails as SES recorded
them. Photos are real ones (registry photos, .cache/photos), uploaded through the album domain.

The photos of a share are chosen here by id (`share_cases.share_photos`); the selection by people
(`faceflow.edge.people.photos_of_people`) is tested where the people backend is (tests/e2e)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import zipfile
from urllib.parse import parse_qsl, urlsplit

import boto3
import numpy as np
import pytest
import share_api
import share_steps
from moto import mock_aws

from common import api as edge
from faceflow.domain import errors, ids
from faceflow.domain import shares as share_rules
from faceflow.edge import exporter, uploads
from faceflow.edge import shares as share_cases
from faceflow.storage import albums, exports
from faceflow.storage import keys as album_keys
from faceflow.storage import shares as share_items
from faceflow.storage import table as album_table
from local.album_client import content_type
from local.cloudfront import Refused, check_signed
from local.photos import PHOTO_CACHE, astronaut, phone_photo
from tests import hostile, located
from tests.album_resources import BUCKETS, ENV, TABLE, create_album_resources
from tests.faceflow_photos import distinct_photos
from tests.prerequisites import require
from tests.share_resources import ENV as SHARE_ENV
from tests.share_resources import create_share_resources, sent_emails

ALICE, BOB = "1f0c6a6e-0000-4000-8000-00000000a11c", "2e1d7b7f-0000-4000-8000-000000000b0b"
RAW, EXPORTS = BUCKETS["ALBUM_RAW_BUCKET"], BUCKETS["ALBUM_EXPORTS_BUCKET"]


@pytest.fixture
def aws(monkeypatch):
    for name, value in {**ENV, **SHARE_ENV}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        yield create_share_resources(
            boto3.client("sqs"), boto3.client("ses"), boto3.client("secretsmanager"), monkeypatch
        )


def call(method: str, resource: str, sub: str | None, body=None, email: str | None = None, **p):
    path = resource
    for name, value in p.items():
        path = path.replace("{" + name + "}", value)
    claims = {"sub": sub, **({"email": email} if email else {})} if sub else None
    event = {
        "httpMethod": method,
        "resource": resource,
        "path": path,
        "pathParameters": p or None,
        "queryStringParameters": None,
        "headers": {"Content-Type": "application/json"},
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"stage": "prod", "authorizer": {"claims": claims} if claims else None},
    }
    response = share_api.handler(event, None)
    return response["statusCode"], json.loads(response["body"] or "null")


def album_with_photos(
    count: int, user: str = ALICE, rounds: int = 1, files: list[tuple[str, bytes]] | None = None
) -> tuple[str, dict[str, bytes], list[str]]:
    """An album holding `count` real photos (each uploaded `rounds` times, as separate photos
    of the same name), or `files`; returns (albumId, photoId → bytes, names)."""
    album = albums.create_album(user, "Summer <b>&</b> friends").album_id
    s3 = boto3.client("s3")
    stored, names = {}, []
    for name, data in files or distinct_photos()[:count] * rounds:
        kind = content_type(name)
        _, ticket = uploads.request_upload(
            user, album, file_name=name, content_type=kind, size=len(data), sha256=None
        )
        item = album_table.table().get_item(Key=album_keys.photo_key(album, ticket["photoId"]))[
            "Item"
        ]
        s3.put_object(Bucket=RAW, Key=item["rawKey"], Body=data)
        stored[ticket["photoId"]] = data
        names.append(name)
    return album, stored, names


def run_exports(queue_url: str) -> list[dict]:
    """Deliver every queued export request to the exporter's handler as Lambda's SQS poller
    does (with the receive count); delete the messages it handled."""
    sqs = boto3.client("sqs")
    results = []
    while True:
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["ApproximateReceiveCount"]
        ).get("Messages", [])
        if not got:
            return results
        message = got[0]
        record = {"body": message["Body"], "attributes": message["Attributes"]}
        results.append(share_steps.export({"Records": [record]}))
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def verified_key(url: str, keys: dict[str, str], now: float | None = None) -> str:
    """The S3 key a signed URL reaches once CloudFront accepted it (Refused otherwise)."""
    parts = urlsplit(url)
    check_signed(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        parse_qsl(parts.query),
        keys,
        time.time() if now is None else now,
    )
    from urllib.parse import unquote

    return unquote(parts.path.lstrip("/"))


def shared(
    album: str,
    photo_ids: list[str],
    recipients=("ann@example.com", "ben@example.org"),
    keep_location: bool = False,
):
    return share_cases.share_photos(
        ALICE,
        album,
        photo_ids,
        recipients=list(recipients),
        shared_by="alice@example.com",
        keep_location=keep_location,
    )


def test_a_share_exports_its_photos_byte_for_byte_and_emails_each_recipient(aws):
    album, stored, _ = album_with_photos(6)
    chosen = list(stored)[1:5]
    created = shared(album, chosen)
    assert created["status"] == "BUILDING" and created["photoCount"] == 4
    status, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert status == 200 and body["status"] == "BUILDING" and body["archiveUrl"] is None

    assert run_exports(aws.queue_url) == [{"shares": {created["shareId"]: "READY"}}]
    status, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert status == 200, body
    assert body["status"] == "READY" and body["albumId"] == album
    assert [i["photoId"] for i in body["items"]] == chosen
    s3 = boto3.client("s3")
    for item in body["items"]:
        key = verified_key(item["url"], aws.public_keys)
        got = s3.get_object(Bucket=EXPORTS, Key=key)
        assert got["Body"].read() == stored[item["photoId"]]
        assert item["fileName"] in got["ContentDisposition"]
    archive_key = verified_key(body["archiveUrl"], aws.public_keys)
    assert archive_key == f"tenant/{ALICE}/{album}/share/{created['shareId']}/archive.zip"
    data = s3.get_object(Bucket=EXPORTS, Key=archive_key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [i["fileName"] for i in body["items"]]
        for item in body["items"]:
            assert archive.read(item["fileName"]) == stored[item["photoId"]]

    emails = sent_emails()
    assert sorted(e.destinations["ToAddresses"][0] for e in emails) == [
        "ann@example.com",
        "ben@example.org",
    ]
    assert all(len(e.destinations["ToAddresses"]) == 1 for e in emails)
    data = json.loads(emails[0].template_data)
    assert data["sharedBy"] == "alice@example.com" and data["photoCount"] == "4"
    assert "<" not in data["albumName"] and "&" not in data["albumName"]
    assert verified_key(data["link"], aws.public_keys) == archive_key
    assert data["expiresAt"].endswith("UTC")


def test_a_repeated_export_request_neither_builds_again_nor_emails_twice(aws):
    album, stored, _ = album_with_photos(2)
    created = shared(album, list(stored))
    body = json.dumps({"userId": ALICE, "albumId": album, "shareId": created["shareId"]})
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.queue_url, MessageBody=body)  # S3-style duplicate delivery
    results = run_exports(aws.queue_url)
    assert [r["shares"][created["shareId"]] for r in results] == ["READY", "READY"]
    assert len(sent_emails()) == 2
    uploads_left = boto3.client("s3").list_multipart_uploads(Bucket=EXPORTS).get("Uploads", [])
    assert uploads_left == []
    item = share_items.load(album, created["shareId"])
    assert item["notified"] == {"ann@example.com", "ben@example.org"}


def located_album() -> tuple[str, dict[str, bytes], list[str]]:
    """An album of real photos that say where they were taken (face-api's demo shot with its GPS,
    pillow-heif's iPhone HEIC with its GPS, a portrait given GPS and XMP location, an AVIF with
    both) and one that does not (a PNG), each with the SHA-256 ExtractEXIF records."""
    files = [
        ("sample1.jpg", (PHOTO_CACHE / "face_api/sample1.jpg").read_bytes()),
        ("portrait.jpg", located.jpeg_with_location(distinct_photos()[0][1])),
        ("paris.avif", located.located(astronaut(), "AVIF")),
        ("plain.png", located_free_png()),
    ]
    iphone = phone_photo("pug.heic")
    require(iphone is not None, ".cache/photos/pillow_heif/pug.heic (scripts/fetch_photos.py)")
    files.append(("iphone.heic", iphone.read_bytes()))
    album, stored, names = album_with_photos(0, files=files)
    for photo_id, data in stored.items():
        album_table.table().update_item(
            Key=album_keys.photo_key(album, photo_id),
            UpdateExpression="SET sha256 = :digest",
            ExpressionAttributeValues={":digest": hashlib.sha256(data).hexdigest()},
        )
    return album, stored, names


def located_free_png() -> bytes:
    return hostile.png(astronaut())


def shipped_files(aws, share_id: str) -> tuple[dict, dict[str, bytes], dict[str, bytes]]:
    """(the share as GET answers it, photoId → its copy's bytes, photoId → its bytes in the
    archive)."""
    _, body = call("GET", "/shares/{shareId}", ALICE, shareId=share_id)
    assert body["status"] == "READY", body
    s3 = boto3.client("s3")
    copies = {
        i["photoId"]: s3.get_object(Bucket=EXPORTS, Key=verified_key(i["url"], aws.public_keys))[
            "Body"
        ].read()
        for i in body["items"]
    }
    key = verified_key(body["archiveUrl"], aws.public_keys)
    data = s3.get_object(Bucket=EXPORTS, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        zipped = {i["photoId"]: archive.read(i["fileName"]) for i in body["items"]}
    return body, copies, zipped


def test_a_share_ships_each_photo_without_its_location_by_default(aws):
    album, stored, _ = located_album()
    created = shared(album, list(stored))
    assert created["keepLocation"] is False
    assert share_items.load(album, created["shareId"])["keepLocation"] is False
    run_exports(aws.queue_url)
    body, copies, zipped = shipped_files(aws, created["shareId"])
    assert body["keepLocation"] is False
    for photo_id, original in stored.items():
        shipped = zipped[photo_id]
        assert copies[photo_id] == shipped  # the URL serves what the archive holds
        assert located.gps_of(shipped) == {}
        assert not [p for p in located.PLACES if p in located.xmp_of(shipped)]
        assert len(shipped) == len(original)
        assert np.array_equal(located.pixels(shipped), located.pixels(original))
    located_ones = [p for p, data in stored.items() if located.gps_of(data)]
    assert len(located_ones) == 4 and all(zipped[p] != stored[p] for p in located_ones)
    (plain,) = set(stored) - set(located_ones)
    assert zipped[plain] == stored[plain]  # nothing to remove: the original, byte for byte


def test_keep_location_ships_the_originals_byte_for_byte(aws):
    album, stored, _ = located_album()
    created = shared(album, list(stored), keep_location=True)
    assert created["keepLocation"] is True
    run_exports(aws.queue_url)
    body, copies, zipped = shipped_files(aws, created["shareId"])
    assert body["keepLocation"] is True
    assert copies == zipped == stored


def test_a_photo_whose_metadata_cannot_be_read_fails_the_share_rather_than_ship(aws):
    body = b"Exif\x00\x00MM\x00\x2a" + (0x7FFF0000).to_bytes(4, "big")  # IFD0 far outside
    real = distinct_photos()[0][1]
    damaged = real[:2] + b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body + real[2:]
    album, stored, _ = album_with_photos(0, files=[("damaged.jpg", damaged)])
    created = shared(album, list(stored))
    assert run_exports(aws.queue_url) == [{"shares": {created["shareId"]: "FAILED"}}]
    _, share = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert share["error"]["code"] == "LOCATION_NOT_REMOVED"
    assert "damaged.jpg" in share["error"]["message"]
    assert boto3.client("s3").list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_keep_location_is_true_or_false_only(aws, value):
    album, _, _ = album_with_photos(1)
    body = {"recipients": ["ann@example.com"], "filters": {"clusterIds": ["c1"]}}
    status, answer = call(
        "POST", "/albums/{albumId}/share", ALICE, {**body, "keepLocation": value}, albumId=album
    )
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), answer


def test_a_build_holding_the_lease_makes_a_concurrent_delivery_wait(aws):
    album, stored, _ = album_with_photos(1)
    created = shared(album, list(stored))
    exporter._claim(album, created["shareId"])  # another worker is building it
    with pytest.raises(exporter.ExportBusy):
        exporter.export(ALICE, album, created["shareId"])
    assert share_items.load(album, created["shareId"])["status"] == "BUILDING"


def test_an_archive_larger_than_a_part_is_a_multipart_upload_of_whole_originals(aws):
    album, stored, names = album_with_photos(len(distinct_photos()), rounds=3)
    assert sum(map(len, stored.values())) > 2 * 5 * 1024 * 1024  # three parts at least
    created = shared(album, list(stored), keep_location=True)  # face-api's photos have GPS
    run_exports(aws.queue_url)
    item = share_items.load(album, created["shareId"])
    assert item["status"] == "READY" and item["fileCount"] == len(stored)
    _, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    in_zip = [i["fileName"] for i in body["items"]]
    assert len({n.lower() for n in in_zip}) == len(in_zip)  # the same names, numbered
    first = in_zip[0].rsplit(".", 1)
    assert in_zip[len(names) // 3] == f"{first[0]} (2).{first[1]}"
    key = f"tenant/{ALICE}/{album}/share/{created['shareId']}/archive.zip"
    head = boto3.client("s3").head_object(Bucket=EXPORTS, Key=key, PartNumber=1)
    assert head["PartsCount"] >= 3 and head["ContentLength"] == 5 * 1024 * 1024
    data = boto3.client("s3").get_object(Bucket=EXPORTS, Key=key)["Body"].read()
    assert len(data) == item["archiveBytes"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.read(n) for n in archive.namelist()) == sorted(stored.values())


def test_expired_tampered_and_foreign_links_are_refused(aws):
    album, stored, _ = album_with_photos(2)
    created = shared(album, list(stored))
    run_exports(aws.queue_url)
    _, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    url = body["archiveUrl"]
    expires = int(dict(parse_qsl(urlsplit(url).query))["Expires"])
    assert expires == ids.epoch(body["expiresAt"])  # it expires with the share
    verified_key(url, aws.public_keys)
    with pytest.raises(Refused, match="Access denied"):
        verified_key(url, aws.public_keys, now=expires)  # expired
    tampered = {
        "signature": url.replace("Signature=", "Signature=A"),
        "expiry": url.replace(f"Expires={expires}", f"Expires={expires + 86400}"),
        "path": url.replace("/archive.zip", "/manifest.json"),
        "key": url.replace("Key-Pair-Id=", "Key-Pair-Id=X"),
    }
    for what, bad in tampered.items():
        with pytest.raises(Refused):
            verified_key(bad, aws.public_keys)
            pytest.fail(f"a tampered {what} was accepted")
    # The photos' policy covers this share's photos only.
    photo_url = body["items"][0]["url"]
    other = photo_url.replace(created["shareId"], "0" * len(created["shareId"]))
    with pytest.raises(Refused):
        verified_key(other, aws.public_keys)
    with pytest.raises(Refused, match="Missing Key-Pair-Id"):
        verified_key(url.split("?")[0], aws.public_keys)


def test_revoking_deletes_the_objects_and_hands_out_no_url_again(aws):
    album, stored, _ = album_with_photos(2)
    created = shared(album, list(stored))
    run_exports(aws.queue_url)
    status, body = call("DELETE", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert status == 200 and body["status"] == "REVOKED"
    assert body["items"] == [] and body["archiveUrl"] is None
    prefix = f"tenant/{ALICE}/{album}/share/{created['shareId']}/"
    listed = boto3.client("s3").list_objects_v2(Bucket=EXPORTS, Prefix=prefix)
    assert listed["KeyCount"] == 0
    assert call("DELETE", "/shares/{shareId}", ALICE, shareId=created["shareId"])[0] == 200
    status, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert (status, body["status"], body["archiveUrl"]) == (200, "REVOKED", None)


def test_a_share_revoked_while_building_keeps_nothing_of_the_build(aws):
    album, stored, _ = album_with_photos(2)
    created = shared(album, list(stored))
    share_cases.revoke_share(ALICE, created["shareId"])
    assert run_exports(aws.queue_url) == [{"shares": {created["shareId"]: "REVOKED"}}]
    assert boto3.client("s3").list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0
    assert sent_emails() == []


def test_another_user_cannot_read_or_revoke_and_learns_nothing(aws):
    album, stored, _ = album_with_photos(1)
    created = shared(album, list(stored))
    missing = "0" * len(created["shareId"])
    for method in ("GET", "DELETE"):
        theirs = call(method, "/shares/{shareId}", BOB, shareId=created["shareId"])
        nothing = call(method, "/shares/{shareId}", BOB, shareId=missing)
        not_found = {"error": {"code": "NOT_FOUND", "message": "No such share."}}
        assert theirs == nothing == (404, not_found)
    status, body = call("GET", "/albums/{albumId}/shares", BOB, albumId=album)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert share_items.load(album, created["shareId"])["status"] == "BUILDING"
    status, body = call("GET", "/albums/{albumId}/shares", ALICE, albumId=album)
    assert [s["shareId"] for s in body["items"]] == [created["shareId"]]


@pytest.mark.parametrize(
    "recipients",
    [
        ["a@b.c\r\nBcc: x"],
        ["ann@example.com\r\nBcc: eve@example.com"],
        ["ann@example.com\nSubject: hi"],
        ["not an email"],
        ["Ann <ann@example.com>"],
        ["ann@example.com, eve@example.com"],
        [f"user{i}@example.com" for i in range(500)],
        [f"user{i}@example.com" for i in range(share_rules.MAX_RECIPIENTS + 1)],
        [],
        ["@example.com"],
        ["ann@localhost"],
        ["x" * 250 + "@example.com"],
    ],
)
def test_hostile_recipients_are_refused_before_anything_happens(aws, recipients):
    album = albums.create_album(ALICE, "Trip").album_id
    status, body = call(
        "POST",
        "/albums/{albumId}/share",
        ALICE,
        {"recipients": recipients, "filters": {"clusterIds": ["c1"]}},
        albumId=album,
    )
    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR" and "recipients" in body["error"]["message"]
    assert boto3.client("sqs").receive_message(QueueUrl=aws.queue_url).get("Messages") is None


def test_the_domain_refuses_hostile_recipients_too():
    bad_ones = ("a@b.c\r\nBcc: x", "a@b.com\n", "a@b.com\x00", "é@b.com", "a@-b.com", ".a@b.com")
    for bad in bad_ones:
        with pytest.raises(errors.InvalidShare):
            share_rules.validate_recipients([bad], 20)
    kept = share_rules.validate_recipients(["Ann@Example.com", "ann@example.com", "b+x@c.io"], 20)
    assert kept == ["Ann@Example.com", "b+x@c.io"]


def test_shares_per_hour_are_limited_per_user(aws, monkeypatch):
    monkeypatch.setenv("SHARE_LIMIT_PER_HOUR", "2")
    album, stored, _ = album_with_photos(1)
    shared(album, list(stored))
    shared(album, list(stored))
    before = int(time.time())
    with pytest.raises(errors.ShareRateLimited) as refused:
        shared(album, list(stored))
    assert edge.STATUS[refused.value.code] == 429 and "2 shares per hour" in refused.value.message
    # Retry-After: the seconds left in the hour's window that refused (windows start on the hour).
    window = share_rules.RATE_WINDOW_S
    left = {window - now % window for now in range(before, int(time.time()) + 1)}
    assert refused.value.retry_after in left
    bob_album, bob_photos, _ = album_with_photos(1, user=BOB)
    share_cases.share_photos(BOB, bob_album, list(bob_photos), recipients=["ann@example.com"])


def test_a_missing_original_fails_the_share_with_its_reason(aws):
    album, stored, _ = album_with_photos(2)
    created = shared(album, list(stored))
    first = album_table.table().get_item(Key=album_keys.photo_key(album, next(iter(stored))))[
        "Item"
    ]
    boto3.client("s3").delete_object(Bucket=RAW, Key=first["rawKey"])  # purged originals
    assert run_exports(aws.queue_url) == [{"shares": {created["shareId"]: "FAILED"}}]
    _, body = call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])
    assert body["status"] == "FAILED" and body["error"]["code"] == "ORIGINAL_MISSING"
    assert boto3.client("s3").list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0
    assert boto3.client("s3").list_multipart_uploads(Bucket=EXPORTS).get("Uploads", []) == []


def test_the_last_attempt_of_a_failing_export_ends_the_share_failed(aws, monkeypatch):
    album, stored, _ = album_with_photos(1)
    created = shared(album, list(stored))
    monkeypatch.setenv("ALBUM_RAW_BUCKET", "no-such-bucket")  # every read fails: NoSuchBucket
    with pytest.raises(Exception, match="NoSuchBucket"):
        exporter.export(ALICE, album, created["shareId"])
    assert share_items.load(album, created["shareId"])["status"] == "BUILDING"  # retried later
    assert exporter.export(ALICE, album, created["shareId"], final_attempt=True) == "FAILED"
    assert share_items.load(album, created["shareId"])["error"]["code"] == "EXPORT_FAILED"


def test_deleting_the_album_or_erasing_the_user_removes_shares_and_exports(aws):
    album, stored, _ = album_with_photos(1)
    created = shared(album, list(stored))
    run_exports(aws.queue_url)
    albums.delete_album(ALICE, album)
    assert boto3.client("s3").list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0
    assert call("GET", "/shares/{shareId}", ALICE, shareId=created["shareId"])[0] == 404
    other, photos, _ = album_with_photos(1)
    shared(other, list(photos))
    run_exports(aws.queue_url)
    assert albums.erase_user_albums(ALICE) == {"albums": 1}
    left = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert left == []
    assert boto3.client("s3").list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0


@pytest.mark.parametrize("during", ["copying the originals", "completing the archive"])
def test_an_album_deleted_while_its_share_builds_ends_the_export_quietly(aws, monkeypatch, during):
    """Issue 25, item 7: the exporter finds the originals (or its own upload) gone with the
    album: the share is gone too, which is no failure (no raise, no retry, no alarm), and
    nothing the build wrote stays."""
    album, stored, _ = album_with_photos(3)
    created = shared(album, list(stored))
    where = (
        (exports, "copy_without_location")
        if during == "copying the originals"
        else (exports.MultipartWriter, "complete")
    )
    real, first = getattr(*where), threading.Lock()

    def deleting_first(*args, **kwargs):
        if first.acquire(blocking=False):
            albums.delete_album(ALICE, album)
        return real(*args, **kwargs)

    monkeypatch.setattr(*where, deleting_first)
    assert run_exports(aws.queue_url) == [{"shares": {created["shareId"]: "GONE"}}]
    s3 = boto3.client("s3")
    assert s3.list_objects_v2(Bucket=EXPORTS).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=EXPORTS).get("Uploads", []) == []
    assert sent_emails() == []
