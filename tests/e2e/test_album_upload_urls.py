"""Album upload URLs used after what they were made for ended (issue 25, items 1 and 2), over
HTTP against the local runtime. A presigned URL cannot be revoked, here as on AWS: the S3 front
accepts it until it expires, whatever happened to its photo, album or user meanwhile. So what it
writes must never outlive an erasure, and never become or replace a claimed original."""

from __future__ import annotations

import contextlib
import io
import time
import zipfile

import numpy as np
import pytest
import requests

from local.album_client import AlbumUser, png_bytes
from local.photos import astronaut
from tests import hostile
from tests.e2e.test_albums import _album_leftovers, album_env
from tests.e2e.test_sharing import wait_ready

pytestmark = pytest.mark.e2e

SETTLE_S = 30
HTML = b"<!doctype html><script>alert(document.domain)</script>"


def _put(upload: dict, data: bytes) -> requests.Response:
    return requests.put(upload["url"], data=data, headers=upload["headers"], timeout=60)


def _raw_objects(backend, user: AlbumUser, album: str) -> dict[str, bytes]:
    """Every object of the album in the raw bucket (originals and uploads): key → bytes."""
    s3, bucket = backend.client("s3"), album_env(backend)["ALBUM_RAW_BUCKET"]
    found = {}
    for prefix in (f"tenant/{user.sub}/{album}/", f"incoming/tenant/{user.sub}/{album}/"):
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
            with contextlib.suppress(s3.exceptions.NoSuchKey):  # the starter took it meanwhile
                found[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return found


def _settles(check, timeout: float = SETTLE_S) -> bool:
    """Whether `check()` holds within `timeout` s (the starter handles S3's event meanwhile)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    time.sleep(2)  # and it still holds once any late delivery was handled
    return check()


@pytest.mark.parametrize("erasure", ["DELETE /albums/{albumId}", "DELETE /apis/images/{userId}"])
def test_an_upload_url_used_after_erasure_leaves_nothing(backend, erasure):
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Erased")
    photo = hostile.jpeg(astronaut())
    single = user.request_upload(album, photo, "late.jpg", "image/jpeg").json()["upload"]
    part_size = int(album_env(backend)["ALBUM_PART_SIZE_BYTES"])
    big = bytes(part_size + 1)
    parts = user.request_upload(album, big, "late.png", "image/png").json()["upload"]["parts"]
    path = erasure.format(albumId=album, userId=user.sub)
    assert user.call("DELETE", path.removeprefix("DELETE ")).status_code == 202

    assert _put(single, photo).status_code == 200  # S3 takes it: the URL is still valid
    late_part = requests.put(parts[0]["url"], data=big[:part_size], timeout=60)
    # The erasure aborted its multipart upload: the part has no upload to join (S3's exact
    # answer, 404 NoSuchUpload, is the S3 front's to give: tests/unit/test_local_s3front.py).
    assert late_part.status_code != 200
    assert _settles(lambda: _album_leftovers(backend, user.sub, album) == []), _album_leftovers(
        backend, user.sub, album
    )


def test_a_put_url_reused_after_processing_replaces_nothing(backend):
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Kept")
    original = hostile.jpeg(astronaut())
    ticket = user.upload(album, original, "me.jpg")
    user.wait_idle(album, 1)
    assert list(_raw_objects(backend, user, album).values()) == [original]

    assert _put(ticket["upload"], HTML).status_code == 200  # the same URL, not expired
    kept = _settles(lambda: list(_raw_objects(backend, user, album).values()) == [original])
    assert kept, _raw_objects(backend, user, album)
    (photo,) = user.photos(album)
    assert (photo["status"], photo["faces"]) == ("PROCESSED", 1)
    (person,) = user.clusters(album)
    body = {"recipients": ["ann@example.com"], "filters": {"clusterIds": [person["clusterId"]]}}
    r = user.call("POST", f"/albums/{album}/share", body)
    assert r.status_code == 201, r.text
    share = wait_ready(user, r.json()["shareId"])
    assert share["status"] == "READY", share
    archive = requests.get(share["archiveUrl"], timeout=60)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert [opened.read(n) for n in opened.namelist()] == [original]
    (item,) = share["items"]
    assert requests.get(item["url"], timeout=60).content == original


def test_part_urls_cannot_replace_a_processed_original(backend):
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Kept, in parts")
    part_size = int(album_env(backend)["ALBUM_PART_SIZE_BYTES"])
    noise = np.random.default_rng(25).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    original = png_bytes(noise)
    assert len(original) > part_size  # two parts
    ticket = user.upload(album, original, "big.png", "image/png")
    user.wait_idle(album, 1)
    (first, *_) = ticket["upload"]["parts"]
    again = requests.put(first["url"], data=HTML + bytes(part_size), timeout=60)
    assert again.status_code != 200  # its upload was completed: no upload takes the part
    r = user.call("POST", f"/albums/{album}/photos/{ticket['photoId']}/complete", {"parts": []})
    assert r.status_code == 200 and r.json()["status"] == "PROCESSED"  # a repeat: a no-op
    assert list(_raw_objects(backend, user, album).values()) == [original]
