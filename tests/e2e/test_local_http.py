"""The whole backend over HTTP only, as `make up` serves it: sign up, agree, upload a real face,
every style completes with the uploader's identity; bad uploads fail with their reason; 20 users
at once lose nothing and duplicate nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from facekit import faces
from local import seed
from local.photos import astronaut
from style_backend.domain.uploads import MAX_STYLES_PER_UPLOAD
from tests import hostile
from tests.e2e.conftest import TERMINAL, User, decode, jpeg

pytestmark = pytest.mark.e2e

SAME_PERSON = 0.6  # dlib's ResNet descriptor: distances below 0.6 are the same person


def needs_model(backend) -> None:
    """The model container is our own code with nothing to download: a problem is a failure."""
    assert not backend.container.problem, backend.container.problem


def identity(rgb: np.ndarray) -> np.ndarray:
    found = faces.detect_faces(rgb, upsample=1)
    assert found, "no face in the image"
    return faces.identity_descriptor(rgb, max(found, key=lambda f: f.area))


def test_unauthenticated_calls_get_401(backend):
    api = backend.client_config().apiUrl.rstrip("/")
    assert requests.get(f"{api}/apis/styles", timeout=10).status_code == 401
    bad = requests.get(f"{api}/apis/styles", headers={"Authorization": "x.y.z"}, timeout=10)
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "UNAUTHORIZED"


def test_upload_needs_the_agreement(backend):
    user = User.sign_up(backend)
    r = user.call(
        "POST",
        "/apis/images/upload",
        {"contentType": "image/jpeg", "resourceIds": [seed.STYLES[0].resource_id]},
    )
    assert r.status_code == 403, r.text


def test_astronaut_gets_every_style_with_her_identity(backend):
    needs_model(backend)
    user = User.sign_up(backend)
    user.agree()
    styles = user.styles()
    assert sorted(s["resourceId"] for s in styles) == sorted(s.resource_id for s in seed.STYLES)
    for style in styles:  # the thumbnails are served by presigned URL
        assert requests.get(style["imageUrl"], timeout=10).status_code == 200
    photo = astronaut()
    ids = [s["resourceId"] for s in styles]
    for first in range(0, len(ids), MAX_STYLES_PER_UPLOAD):  # the most one upload takes
        picked = ids[first : first + MAX_STYLES_PER_UPLOAD]
        done = user.wait(user.upload(jpeg(photo), picked))
        assert done["status"] == "COMPLETED", done
        assert {k: v["status"] for k, v in done["styles"].items()} == dict.fromkeys(
            picked, "COMPLETED"
        )
    results = user.results()
    assert sorted(r["resourceId"] for r in results) == sorted(s["resourceId"] for s in styles)
    uploaded = identity(photo)
    style_faces = {
        s["resourceId"]: identity(decode(requests.get(s["imageUrl"], timeout=10).content))
        for s in styles
    }
    for result in results:
        image = identity(decode(requests.get(result["url"], timeout=10).content))
        distance = faces.identity_distance(uploaded, image)
        assert distance < SAME_PERSON, (result["resourceId"], distance)
        style_face = style_faces[result["resourceId"]]
        if faces.identity_distance(uploaded, style_face) > SAME_PERSON:  # someone else's style
            assert distance < faces.identity_distance(style_face, image), result["resourceId"]

    r = user.call("DELETE", f"/apis/images/{user.sub}")
    assert r.status_code == 202, r.text
    assert user.results() == []
    assert requests.get(results[0]["url"], timeout=10).status_code == 404


def test_photo_without_a_face_fails_with_its_reason(backend):
    from skimage import data

    user = User.sign_up(backend)
    user.agree()
    process_id = user.upload(jpeg(data.coffee()), [seed.STYLES[0].resource_id])
    done = user.wait(process_id, timeout=120)
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == "NO_FACE", done

    r = user.call("DELETE", f"/apis/images/{user.sub}")  # erasure of what was uploaded
    assert r.status_code == 202, r.text
    assert user.call("GET", f"/apis/images/{user.sub}/processes/{process_id}").status_code == 404
    bucket = backend.environment_of("upload.handler")["BUCKET_NAME"]
    left = backend.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"uploads/{user.sub}/")
    assert left.get("KeyCount", 0) == 0


def test_file_that_is_not_an_image_fails_as_unreadable(backend):
    user = User.sign_up(backend)
    user.agree()
    broken = jpeg(astronaut())[:600]  # a real JPEG header, cut short
    process_id = user.upload(broken, [seed.STYLES[1].resource_id])
    done = user.wait(process_id, timeout=120)
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == "UNREADABLE_IMAGE", done


def test_heic_and_avif_selfies_are_styled_and_a_cut_heic_fails(backend):
    needs_model(backend)
    user = User.sign_up(backend)
    user.agree()
    style = seed.STYLES[0].resource_id
    started = {
        "heic": user.upload(hostile.heic(astronaut()), [style], "image/heic"),
        "avif": user.upload(hostile.avif(astronaut()), [style], "image/avif"),
        "cut": user.upload(hostile.truncated_heic(), [style], "image/heic"),
    }
    done = {name: user.wait(process_id, timeout=300) for name, process_id in started.items()}
    assert done["heic"]["status"] == done["avif"]["status"] == "COMPLETED", done
    assert done["cut"]["status"] == "FAILED"
    assert done["cut"]["error"]["code"] == "UNREADABLE_IMAGE", done["cut"]
    uploaded = identity(astronaut())
    for result in user.results():
        image = identity(decode(requests.get(result["url"], timeout=10).content))
        assert faces.identity_distance(uploaded, image) < SAME_PERSON


def test_twenty_users_at_once_lose_nothing_and_duplicate_nothing(backend):
    dead_before = backend.dispatcher.dead_letters  # the session's DLQ test adds its own
    users = [User.sign_up(backend) for _ in range(20)]
    for user in users:
        user.agree()
    style_ids = [s["resourceId"] for s in users[0].styles()]
    photo = jpeg(astronaut())

    def run(pair: tuple[int, User]) -> tuple[User, dict]:
        i, user = pair
        process_id = user.upload(photo, [style_ids[i % len(style_ids)]])
        return user, user.wait(process_id, timeout=600)

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(run, enumerate(users)))

    assert all(done["status"] in TERMINAL for _, done in outcomes)
    for user, done in outcomes:
        completed = [k for k, v in done["styles"].items() if v["status"] == "COMPLETED"]
        results = user.results()
        assert len(results) == len(completed), (user.sub, results, done)
        assert len({r["resultId"] for r in results}) == len(results)
    assert not backend.container.problem, backend.container.problem
    assert [d["status"] for _, d in outcomes] == ["COMPLETED"] * 20
    assert backend.dispatcher.dead_letters == dead_before
