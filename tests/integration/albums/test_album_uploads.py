"""What an album upload URL can still do after it was handed out (issue 25, items 1 and 2),
against moto (decorator mode): the URL is a real presigned URL, PUT with requests (moto answers
it as S3 does: a presigned URL cannot be revoked), and the S3 event it causes is handed to the
starter as the queue would (`starter.start_jobs` with the key S3 names). Whatever the URL writes
after its photo was claimed, its album deleted or its user erased is deleted on arrival, and the
claimed original never changes. Over HTTP against `make up`: tests/e2e/test_album_upload_urls.py.
"""

from __future__ import annotations

import boto3
import pytest
import requests

from faceflow.edge import starter, uploads
from faceflow.storage import albums
from faceflow.storage import keys as album_keys
from faceflow.storage import photos as photo_items
from faceflow.storage import table as album_table
from tests.album_resources import BUCKETS
from tests.integration.albums.test_people import (
    ALICE,
    aws,  # noqa: F401  (the fixture)
    new_album,
)

RAW = BUCKETS["ALBUM_RAW_BUCKET"]
JPEG = b"\xff\xd8\xff\xe0" + b"a photo" * 100
HTML = b"<!doctype html><script>alert(document.domain)</script>"


def _ticket(album: str, data: bytes = JPEG) -> dict:
    _, ticket = uploads.request_upload(
        ALICE, album, file_name="p.jpg", content_type="image/jpeg", size=len(data), sha256=None
    )
    return ticket


def _put(ticket: dict, data: bytes) -> str:
    """The client's PUT to the ticket's URL; returns the key S3's ObjectCreated event names."""
    before = set(_raw_objects())
    upload = ticket["upload"]
    r = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)
    assert r.status_code == 200, r.text  # S3 takes it: the URL is valid until it expires
    (key,) = [k for k, v in _raw_objects().items() if k not in before or v == data]
    return key


def _raw_objects() -> dict[str, bytes]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=RAW).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=RAW, Key=o["Key"])["Body"].read() for o in listed}


def _raw_key(album: str, photo_id: str) -> str:
    return album_table.table().get_item(Key=album_keys.photo_key(album, photo_id))["Item"]["rawKey"]


@pytest.mark.parametrize("gone", ["album deleted", "user erased"])
def test_an_upload_after_its_album_is_gone_is_deleted_on_arrival(aws, gone):  # noqa: F811
    album = new_album()
    ticket = _ticket(album)
    if gone == "album deleted":
        albums.delete_album(ALICE, album)
    else:
        albums.erase_user_albums(ALICE)
    key = _put(ticket, JPEG)
    assert starter.start_jobs([key]) == []
    assert _raw_objects() == {}  # nothing claims it, nothing may keep it


def test_a_url_reused_after_the_claim_never_replaces_the_original(aws):  # noqa: F811
    album = new_album()
    ticket = _ticket(album)
    first = _put(ticket, JPEG)
    (job,) = starter.start_jobs([first])
    assert job["photoIds"] == [ticket["photoId"]]
    original = _raw_key(album, ticket["photoId"])
    assert _raw_objects() == {original: JPEG}  # moved out of reach of the URL

    again = _put(ticket, HTML)  # the same URL, still valid
    assert again == first
    assert starter.start_jobs([again]) == [job]  # its job exists and was started: nothing new
    assert _raw_objects() == {original: JPEG}
    item = album_table.table().get_item(Key=album_keys.photo_key(album, ticket["photoId"]))["Item"]
    assert (item["status"], item["jobId"]) == ("PROCESSING", job["jobId"])


def test_a_starter_that_failed_half_way_is_retried_to_the_same_end(aws, monkeypatch):  # noqa: F811
    album = new_album()
    ticket = _ticket(album)
    key = _put(ticket, JPEG)
    real = photo_items.claim_photo

    def dies(*args):  # the starter dies after the copy, before the claim
        raise RuntimeError("the starter's environment died")

    monkeypatch.setattr(photo_items, "claim_photo", dies)
    with pytest.raises(RuntimeError):
        starter.start_jobs([key])
    monkeypatch.setattr(photo_items, "claim_photo", real)
    (job,) = starter.start_jobs([key])  # SQS delivers the event again
    assert starter.start_jobs([key]) == [job]  # and once more: the same job, started once
    assert _raw_objects() == {_raw_key(album, ticket["photoId"]): JPEG}


def test_an_upload_larger_than_declared_is_refused_without_a_copy(aws, monkeypatch):  # noqa: F811
    """A PUT URL does not bound the size: a client may send more than it declared. The starter
    fails the photo FILE_TOO_LARGE before copying a byte, and keeps nothing of it."""
    monkeypatch.setenv("ALBUM_MAX_PHOTO_BYTES", str(len(JPEG)))
    album = new_album()
    ticket = _ticket(album)
    key = _put(ticket, JPEG * 3)
    assert starter.start_jobs([key]) == []
    item = album_table.table().get_item(Key=album_keys.photo_key(album, ticket["photoId"]))["Item"]
    assert (item["status"], item["error"]["code"]) == ("FAILED", "FILE_TOO_LARGE")
    assert _raw_objects() == {}
