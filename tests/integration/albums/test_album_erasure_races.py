"""Deleting an album (or erasing its user) while its pipeline runs leaves nothing behind: each
step that writes after the deletion began removes what it wrote (album_alive).
The deletion is run at every point of the job — between steps, and inside each writing step
after it read its input and before its writes land (the window a deletion's listing misses).

And it fails nothing (issue 25, item 7): every step of a job whose album went ends as a no-op
(pipeline.cancelled_when_album_gone), so the execution succeeds and no alarm fires for a user's
ordinary action. The steps are called as the state machine calls them; none may raise."""

from __future__ import annotations

import album_steps
import boto3
import pytest

from faceflow.edge import photo_steps, pipeline, starter
from faceflow.storage import albums
from faceflow.storage import faces as face_items
from faceflow.storage import keys as album_keys
from faceflow.storage import people as stored_people
from faceflow.storage import table as album_table
from tests.album_resources import BUCKETS
from tests.integration.albums.test_people import (
    ALICE,
    PORTRAITS,
    aws,  # noqa: F401  (the fixture)
    new_album,
    photos_named,
    upload,
    upload_keys,
)

# (where the deletion runs, as module + function it wraps): inside a step, just before it writes;
# ProcessPhoto at each of its three stages (ingest, faces, vectors).
INSIDE = {
    "ProcessPhoto.ingest": (photo_steps, "ingest_photo"),
    "ProcessPhoto.faces": (photo_steps.analysis, "find_faces"),
    "ProcessPhoto.vectors": (face_items, "put_vectors"),  # its first caller in a job
    "Dedupe": (pipeline, "claim_digest"),
    "Cluster": (stored_people, "commit"),
}
BETWEEN = ("ProcessPhoto", "Dedupe", "Cluster", "Notify")


def _steps(job: dict):
    """The state machine's tasks for this job, in order, as (state, call)."""
    for photo_id in job["photoIds"]:
        yield "ProcessPhoto", lambda p=photo_id: album_steps.process_photo({**job, "photoId": p})
    yield "Dedupe", lambda: album_steps.dedupe(job)
    yield "Cluster", lambda: album_steps.cluster(job)
    yield "Notify", lambda: album_steps.notify(job)


def _left_behind(album: str) -> list[str]:
    s3 = boto3.client("s3")
    prefix = f"tenant/{ALICE}/{album}/"
    objects = [
        f"{bucket}:{o['Key']}"
        for bucket in BUCKETS.values()
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]
    items = [i["SK"] for i in album_table.album_items(album)]
    return objects + items


def _start(album: str) -> dict:

    names = upload(ALICE, album, photos_named(PORTRAITS[:2]))
    (job,) = starter.start_jobs(upload_keys(album, names))
    return job


@pytest.mark.parametrize("after", BETWEEN)
def test_deleted_between_steps(aws, after):  # noqa: F811
    album = new_album()
    job = _start(album)
    deleted = False
    for state, call in _steps(job):
        call()
        if state == after and not deleted:
            albums.delete_album(ALICE, album)
            deleted = True
    assert _left_behind(album) == []


class _Cut(Exception):
    """The album deletion's request cut off (a timeout) half-way."""


def _deletion_cut_after_the_objects(album: str, monkeypatch) -> None:
    """DELETE /albums/{albumId} interrupted after it deleted the album's objects, before its
    items: the state a step running meanwhile meets (items there, objects gone)."""

    def cut(*args, **kwargs):
        raise _Cut

    with monkeypatch.context() as patched:
        patched.setattr(albums, "album_items", cut)
        with pytest.raises(_Cut):
            albums.delete_album(ALICE, album)


@pytest.mark.parametrize("before", BETWEEN)
def test_a_step_meeting_a_deletion_half_done_ends_as_a_no_op(aws, before, monkeypatch):  # noqa: F811
    album = new_album()
    job = _start(album)
    results, met = [], False
    for state, call in _steps(job):
        if state == before and not met:
            _deletion_cut_after_the_objects(album, monkeypatch)
            met = True
        results.append((state, call()))  # NoSuchKey and the like: never raised
    assert [state for state, r in results if r.get("cancelled")] == [
        state for state, _ in results[[s for s, _ in results].index(before) :]
    ]
    job_item = album_table.table().get_item(Key=album_keys.job_key(album, job["jobId"])).get("Item")
    assert job_item["status"] == "CANCELLED"
    albums.delete_album(ALICE, album)  # the user asks again; it runs to the end
    assert _left_behind(album) == []


@pytest.mark.parametrize("inside", sorted(INSIDE))
def test_deleted_while_a_step_runs(aws, inside, monkeypatch):  # noqa: F811
    album = new_album()
    job = _start(album)
    module, name = INSIDE[inside]
    real = getattr(module, name)
    done = []

    def deleting_first(*args, **kwargs):
        if not done:
            done.append(True)
            albums.delete_album(ALICE, album)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, deleting_first)
    for _, call in _steps(job):
        call()
    assert done, f"{inside}: the deletion never ran"
    assert _left_behind(album) == []


def test_a_user_erasure_mid_job_leaves_nothing(aws, monkeypatch):  # noqa: F811
    album = new_album()
    job = _start(album)
    real = face_items.put_vectors

    def erasing_first(*args):
        albums.erase_user_albums(ALICE)
        return real(*args)

    monkeypatch.setattr(face_items, "put_vectors", erasing_first)
    for _, call in _steps(job):
        call()
    assert _left_behind(album) == []
    assert albums.list_albums(ALICE, 10, None)[0] == []


def test_a_deletion_listing_objects_before_a_crop_and_items_after_its_face_leaves_nothing(
    aws,  # noqa: F811
    monkeypatch,
):
    """The interleaving the end-to-end race found: the deletion lists and deletes the album's
    objects before ProcessPhoto stores a crop, and its items after the face's item landed, so
    the face item is gone when the step finds its album gone: the crop goes by its key."""
    from faceflow.storage import faces, objects

    album = new_album()
    job = _start(album)
    real_crop, real_face = faces.put_crop, faces.put_face
    real_everywhere = objects.delete_everywhere
    halves = []

    def crop_after_the_listing(*args):
        if not halves:
            halves.append("objects")
            albums._mark_deleting(ALICE, album)
            real_everywhere(album_keys.album_prefix(ALICE, album))
        return real_crop(*args)

    def items_after_the_face(item):
        real_face(item)
        if halves == ["objects"]:
            halves.append("items")
            with monkeypatch.context() as listed:
                listed.setattr(objects, "delete_everywhere", lambda prefix: 0)
                albums._delete_album_data(ALICE, album)

    monkeypatch.setattr(faces, "put_crop", crop_after_the_listing)
    monkeypatch.setattr(faces, "put_face", items_after_the_face)
    for _, call in _steps(job):
        call()
    assert halves == ["objects", "items"]
    assert _left_behind(album) == []
