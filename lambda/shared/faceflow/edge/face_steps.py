"""The pipeline's Cluster step (the whole job): the job's embedded faces join the album's people
(faceflow.storage.people). Like the other steps (faceflow.edge.pipeline) it acts only on its own
job's photos and writes what it writes under deterministic keys, so a retried task or a re-run
execution finds its work done and does nothing twice. The faces and their vectors are
ProcessPhoto's (faceflow.edge.photo_steps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from common.aws import is_transient
from faceflow.domain.people import FaceEntry
from faceflow.domain.statuses import PEOPLE_PHOTO_STATUSES
from faceflow.edge.pipeline import TransientStepError, _job
from faceflow.storage import faces, jobs, keys, people
from faceflow.storage.people import UNCHANGED, StoredPeople
from faceflow.storage.table import album_items


def cluster(event: dict[str, Any]) -> dict[str, Any]:
    album_id, job_id = event["albumId"], event["jobId"]
    jobs.advance(album_id, job_id, "Cluster")
    try:
        added = add_faces(event["userId"], album_id, event["photoIds"])
    except people.StoreBusy as err:  # edits kept winning the commit: retry with backoff
        raise TransientStepError(str(err)) from err
    except ClientError as err:
        if is_transient(err):
            raise TransientStepError(str(err)) from err
        raise
    return {**_job(event), "faces": added}


def add_faces(user_id: str, album_id: str, photo_ids: Iterable[str]) -> int:
    """The Cluster step's change: the embedded faces of these photos join the album's people (a
    fresh album is clustered with the batch algorithm, later faces assigned at once). Faces
    already placed are left where they are, so a retried step adds nothing twice."""
    wanted = set(photo_ids)
    statuses = {
        p["photoId"]: p["status"]
        for p in album_items(album_id, keys.PHOTO, ("photoId", "status"))
        if p["photoId"] in wanted
    }
    ready = [
        f
        for f in faces.face_items(album_id)
        if statuses.get(f["photoId"]) in PEOPLE_PHOTO_STATUSES and f.get("embeddingKey")
    ]
    vectors: dict[str, np.ndarray] = {}

    def _add(stored: StoredPeople) -> Any:
        new = [f for f in ready if f["faceId"] not in stored.people.faces]
        if not new:
            return UNCHANGED
        for key in {f["embeddingKey"] for f in new} - vectors.keys():
            vectors[key] = people.get_array(key)
        _place(stored, new, vectors)
        return len(new)

    _, added = people.change(user_id, album_id, _add, vectors_changed=True)
    return 0 if added is UNCHANGED else added


def _place(stored: StoredPeople, new: list[dict[str, Any]], vectors: dict[str, np.ndarray]) -> None:
    """New faces into the album's people (a fresh album: the batch algorithm over all of them),
    and their facts beside."""
    entries = [
        FaceEntry(
            f["faceId"],
            f["photoId"],
            vectors[f["embeddingKey"]][int(f["embeddingRow"])],
            bool(f["lowQuality"]),
        )
        for f in new
    ]
    fresh = not stored.people.faces
    stored.people.add_faces(entries)
    if fresh and len(entries) > 1:
        stored.people.recluster()  # a fresh album: the batch algorithm over all its faces
    for f in new:
        stored.facts[f["faceId"]] = {
            "photoId": f["photoId"],
            "box": f["box"],
            "score": f["score"],
            "lowQuality": bool(f["lowQuality"]),
            "cropKey": f["cropKey"],
        }
