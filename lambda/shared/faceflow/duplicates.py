"""A wrong duplicate undone: `POST /albums/{albumId}/photos/{photoId}/not-duplicate`.

The photo goes back to PROCESSING in a job of its own, which runs the same state machine: its
ingestion, faces and vectors are already recorded, so ExtractEXIF, DetectAlign and Embed find
their work done, Dedupe leaves the pair alone, Cluster places its faces and Notify marks it
PROCESSED. The pair is remembered on the photo (`notDuplicateOf`, a string set) and Dedupe never
joins it again, by pixels or by SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from faceflow import jobs
from faceflow.albums import (
    AlbumNotFound,
    UploadConflict,
    get_album,
    new_id,
    photo_key,
    table,
)


class NotADuplicate(UploadConflict):
    """409: the photo is not (or no longer) marked DUPLICATE."""


def kept_apart(photos: Iterable[dict[str, Any]]) -> set[frozenset[str]]:
    """Every pair a user said is not a duplicate, from the album's PHOTO# items."""
    return {
        frozenset((p["photoId"], other))
        for p in photos
        for other in p.get("notDuplicateOf", ())
        if other != p["photoId"]
    }


def mark_not_duplicate(user_id: str, album_id: str, photo_id: str) -> dict[str, str]:
    """DUPLICATE → PROCESSING in a new job that places its faces; the pair is kept apart for
    good. AlbumNotFound for another user's album or an unknown photo, NotADuplicate (409) when
    the photo is not a duplicate."""
    get_album(user_id, album_id)
    item = table().get_item(Key=photo_key(album_id, photo_id), ConsistentRead=True).get("Item")
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound("photo")
    if item["status"] != "DUPLICATE" or not item.get("duplicateOf"):
        raise NotADuplicate(f"The photo is {item['status']}, not a duplicate.")
    job_id = new_id()
    # The same duplicate it was read as: a concurrent call or a deletion loses cleanly.
    if not jobs.to_processing(
        album_id,
        photo_id,
        job_id,
        condition="#s = :duplicate AND duplicateOf = :of AND userId = :user",
        values={
            ":duplicate": "DUPLICATE",
            ":of": item["duplicateOf"],
            ":user": user_id,
            ":kept": {item["duplicateOf"]},
        },
        more="ADD notDuplicateOf :kept REMOVE duplicateOf",
    ):
        raise NotADuplicate("The photo is no longer a duplicate.")
    jobs.start_job(user_id, album_id, job_id, [photo_id])
    return {"photoId": photo_id, "status": "PROCESSING"}
