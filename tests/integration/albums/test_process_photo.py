"""ProcessPhoto (faceflow.edge.photo_steps) against moto (decorator mode), on real portraits: one
invocation reads the original once and records what ExtractEXIF, DetectAlign and Embed recorded
in three; a retry skips every stage whose result is recorded; hostile or missing originals end
the photo FAILED with a reason."""

from __future__ import annotations

import io

import album_steps
import boto3
import numpy as np
import pytest
from PIL import Image

from faceflow.config import AlbumEnv
from faceflow.edge import photo_steps
from faceflow.storage import faces as face_items
from faceflow.storage import keys as album_keys
from faceflow.storage import objects
from faceflow.storage import table as album_table
from facekit.embedding import get_embedder
from tests import hostile
from tests.album_resources import BUCKETS
from tests.integration.albums.test_people import (
    ALICE,
    aws,  # noqa: F401  (the fixture)
    new_album,
    photos_named,
    upload,
    upload_keys,
)

PORTRAIT = "face_recognition/obama.jpg"


def _job(album: str, names: list[str]) -> tuple[dict, str]:
    from faceflow.edge import starter

    photo_ids = list(upload(ALICE, album, photos_named(names)))
    (job,) = starter.start_jobs(upload_keys(album, photo_ids))
    return job, photo_ids[0]


def _photo(album: str, photo_id: str) -> dict:
    return album_table.table().get_item(Key=album_keys.photo_key(album, photo_id))["Item"]


def _faces(album: str, photo_id: str) -> list[dict]:
    return sorted(face_items.face_items(album, photo_id), key=lambda f: f["faceIndex"])


class _CountingS3:
    """objects.s3() with its GETs of the raw bucket counted (reads of the original)."""

    def __init__(self, real):
        self._real = real
        self.original_reads = 0

    def get_object(self, **kwargs):
        if kwargs["Bucket"] == BUCKETS["ALBUM_RAW_BUCKET"]:
            self.original_reads += 1
        return self._real.get_object(**kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture
def counting(monkeypatch):
    counter = _CountingS3(objects.s3())
    monkeypatch.setattr(objects, "s3", lambda: counter)
    return counter


def _run(job: dict, photo_id: str) -> dict:
    return album_steps.process_photo({**job, "photoId": photo_id, "photoIds": None})


def test_one_invocation_reads_the_original_once_and_records_every_stage(aws, counting):  # noqa: F811
    album = new_album()
    job, photo_id = _job(album, [PORTRAIT])
    answer = _run(job, photo_id)
    assert answer == {"photoId": photo_id, "status": "PROCESSING", "faces": 1}
    assert counting.original_reads == 1
    photo = _photo(album, photo_id)
    assert photo["faceCount"] == 1 and len(photo["pHash"]) == 16 and photo["thumbKey"]
    assert photo["sha256"] and photo["width"] > 0 and photo["status"] == "PROCESSING"
    (face,) = _faces(album, photo_id)
    assert face["embeddingRow"] == 0 and face["embedder"] == get_embedder().name
    # The vector is the one Embed computed from the stored (lossless) crop.
    crop = face_items.get_crop(face["cropKey"])
    with Image.open(io.BytesIO(crop)) as image:
        again = get_embedder().embed([np.asarray(image.convert("RGB"))])
    stored = face_items.get_vectors(face["embeddingKey"])
    np.testing.assert_allclose(stored, again, atol=1e-6)
    assert boto3.client("s3").head_object(
        Bucket=BUCKETS["ALBUM_DERIVED_BUCKET"], Key=photo["thumbKey"]
    )


def test_a_retry_of_a_recorded_photo_does_nothing_and_reads_nothing(aws, counting):  # noqa: F811
    album = new_album()
    job, photo_id = _job(album, [PORTRAIT])
    _run(job, photo_id)
    before, faces = _photo(album, photo_id), _faces(album, photo_id)
    reads = counting.original_reads
    assert _run(job, photo_id)["faces"] == 1
    assert counting.original_reads == reads  # the original is not read again
    assert _photo(album, photo_id) == before and _faces(album, photo_id) == faces


def test_a_retry_past_the_ingest_stage_finds_the_faces_without_ingesting_again(
    aws,  # noqa: F811
    monkeypatch,
):
    """A photo ingested (thumbKey) whose faces are not recorded: only faces and vectors run."""
    album = new_album()
    job, photo_id = _job(album, [PORTRAIT])
    _run(job, photo_id)
    expected = _faces(album, photo_id)
    for face in expected:  # as before its faces stage ran
        objects.delete(AlbumEnv.DERIVED_BUCKET, face["cropKey"])
        album_table.table().delete_item(Key=album_keys.face_key(album, face["faceId"]))
    album_table.table().update_item(
        Key=album_keys.photo_key(album, photo_id), UpdateExpression="REMOVE faceCount"
    )

    def not_again(*args, **kwargs):
        raise AssertionError("ingested twice")

    monkeypatch.setattr(photo_steps, "ingest_photo", not_again)
    assert _run(job, photo_id)["faces"] == 1
    assert _photo(album, photo_id)["faceCount"] == 1
    assert _faces(album, photo_id) == expected


def test_a_retry_past_the_faces_stage_embeds_the_stored_crops(aws, monkeypatch):  # noqa: F811
    """Faces recorded (faceCount, crops, items) without vectors: only the vectors stage runs."""
    album = new_album()
    job, photo_id = _job(album, [PORTRAIT])
    _run(job, photo_id)
    expected = _faces(album, photo_id)
    vectors = face_items.get_vectors(expected[0]["embeddingKey"])
    for face in expected:
        album_table.table().update_item(
            Key=album_keys.face_key(album, face["faceId"]),
            UpdateExpression="REMOVE embeddingKey, embeddingRow, embedder",
        )
    objects.delete(AlbumEnv.EMBEDDINGS_BUCKET, expected[0]["embeddingKey"])

    def not_again(*args, **kwargs):
        raise AssertionError("faces found twice")

    monkeypatch.setattr(photo_steps.analysis, "find_faces", not_again)
    assert _run(job, photo_id)["faces"] == 1
    assert _faces(album, photo_id) == expected
    np.testing.assert_allclose(
        face_items.get_vectors(expected[0]["embeddingKey"]), vectors, atol=1e-6
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (hostile.truncated_jpeg, "UNREADABLE_IMAGE"),
        (hostile.text, "UNSUPPORTED_FORMAT"),
        (lambda: hostile.png_declaring(20_000, 20_000), "IMAGE_TOO_LARGE"),
    ],
)
def test_a_hostile_original_ends_the_photo_failed_with_its_reason(aws, content, code):  # noqa: F811
    album = new_album()
    job, photo_id = _job(album, [PORTRAIT])
    raw = _photo(album, photo_id)["rawKey"]
    boto3.client("s3").put_object(Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=raw, Body=content())
    assert _run(job, photo_id) == {"photoId": photo_id, "status": "FAILED", "faces": 0}
    photo = _photo(album, photo_id)
    assert (photo["status"], photo["error"]["code"]) == ("FAILED", code)
    assert photo["error"]["message"] and "thumbKey" not in photo
    assert _faces(album, photo_id) == []


def test_a_missing_or_too_large_original_fails_the_photo_without_reading_it(
    aws,  # noqa: F811
    monkeypatch,
):
    album = new_album()
    job, _ = _job(album, [PORTRAIT, "face_recognition/biden.jpg"])
    gone, large = job["photoIds"]
    boto3.client("s3").delete_object(
        Bucket=BUCKETS["ALBUM_RAW_BUCKET"], Key=_photo(album, gone)["rawKey"]
    )
    assert _run(job, gone)["status"] == "FAILED"
    assert _photo(album, gone)["error"]["code"] == "UPLOAD_MISSING"
    monkeypatch.setenv("ALBUM_MAX_PHOTO_BYTES", "1000")
    assert _run(job, large)["status"] == "FAILED"
    error = _photo(album, large)["error"]
    assert error["code"] == "FILE_TOO_LARGE" and "1000" in error["message"]
