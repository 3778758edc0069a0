"""A wrong duplicate undone: `POST /albums/{albumId}/photos/{photoId}/not-duplicate`.

The photo goes back to PROCESSING in a job of its own, which runs the same state machine: its
ingestion, faces and vectors are already recorded, so ProcessPhoto finds its work done, Dedupe
leaves the pair alone, Cluster places its faces and Notify marks it PROCESSED. The pair is
remembered on the photo (`notDuplicateOf`, a string set) and Dedupe never joins it again, by
pixels or by SHA-256.
"""

from __future__ import annotations

from faceflow.domain.errors import NotADuplicate
from faceflow.domain.ids import new_id
from faceflow.edge.starter import start_job
from faceflow.storage import albums, photos


def mark_not_duplicate(user_id: str, album_id: str, photo_id: str) -> dict[str, str]:
    """DUPLICATE → PROCESSING in a new job that places its faces; the pair is kept apart for
    good. AlbumNotFound for another user's album or an unknown photo, NotADuplicate (409) when
    the photo is not a duplicate."""
    albums.get_album(user_id, album_id)
    item = photos.owned_photo(user_id, album_id, photo_id)
    if item["status"] != "DUPLICATE" or not item.get("duplicateOf"):
        raise NotADuplicate(f"The photo is {item['status']}, not a duplicate.")
    job_id = new_id()
    # The same duplicate it was read as: a concurrent call or a deletion loses cleanly.
    if not photos.to_processing(
        album_id,
        photo_id,
        job_id,
        was="DUPLICATE",
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
    start_job(user_id, album_id, job_id, [photo_id])
    return {"photoId": photo_id, "status": "PROCESSING"}
