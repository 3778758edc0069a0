"""The album's one clustering writer: new faces join the album's people.

The state machine's Cluster state sends its job to the cluster FIFO queue with the album as the
message group and waits for its task token (`sqs:sendMessage.waitForTaskToken`): SQS hands an
album's messages to one invocation at a time, in order, so an album's faces are placed by one
writer, and a batch coalesces whatever jobs are waiting: 500 jobs of one upload become a few
dozen placements, never 500 racing commits. Each message's token is answered here: success with
the job (the next state goes on), or failure with the error's name (the state's Retry/Catch).

`add_faces` places the embedded faces of some photos (a job's step reads only its own faces):
a fresh album's first faces by the batch algorithm, later ones at once against the album's
centroid index, kept warm between invocations and rebuilt from the CLUSTER# records only when
another writer (an edit) changed the people since.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from common.aws import client, is_transient
from faceflow.domain.clustering import CentroidIndex
from faceflow.domain.people import changes_since, slice_of, snapshot
from faceflow.domain.statuses import PEOPLE_PHOTO_STATUSES
from faceflow.edge import people as people_cases
from faceflow.edge.pipeline import TransientStepError
from faceflow.storage import faces, jobs, people
from faceflow.storage.albums import album_alive
from faceflow.storage.people import Lease, Member
from faceflow.storage.photos import photo_fields

WRITER_WAIT_SECONDS = 60.0  # an edit holds the album's people for well under a second
_WARM: dict[str, tuple[int, CentroidIndex]] = {}  # albumId → (seq, centroids) of this process
_WARM_ALBUMS = 8
_ANSWERED = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def _number(value: float) -> Decimal:
    return Decimal(str(value))


def _members(items: list[dict[str, Any]]) -> dict[str, Member]:
    vectors: dict[str, np.ndarray] = {}
    out = {}
    for f in items:
        key = f["embeddingKey"]
        if key not in vectors:
            vectors[key] = faces.get_vectors(key)
        out[f["faceId"]] = Member(
            f["faceId"],
            f["photoId"],
            bool(f["lowQuality"]),
            np.asarray(vectors[key][int(f["embeddingRow"])], np.float32),
            {
                "box": [_number(v) for v in f["box"]],
                "score": _number(f["score"]),
                "cropKey": f["cropKey"],
            },
        )
    return out


def _index(lease: Lease, dim: int) -> CentroidIndex:
    """The album's centroids: this process's copy if no one changed the people since."""
    warm = _WARM.get(lease.album_id)
    if warm and warm[0] == lease.seq and warm[1].dim == dim:
        return warm[1]
    records = [r for r in people.all_clusters(lease.album_id) if r.good and r.sum is not None]
    if not records:
        return CentroidIndex(dim)
    return CentroidIndex.of_sums(
        [r.cluster_id for r in records], np.stack([r.sum for r in records])
    )


def _keep_warm(album_id: str, seq: int, index: CentroidIndex | None) -> None:
    _WARM.pop(album_id, None)
    if index is not None:
        while len(_WARM) >= _WARM_ALBUMS:
            _WARM.pop(next(iter(_WARM)))
        _WARM[album_id] = (seq, index)


def _place(lease: Lease, new: dict[str, Member], placed: dict[str, tuple[str, Member]]):
    """The domain places `new` on a slice holding this batch's faces placed before (a retry)."""
    known = {**new, **{f: m for f, (_, m) in placed.items()}}
    part = slice_of(
        [m.entry() for _, m in placed.values()],
        {f: c for f, (c, _) in placed.items()},
        labels={},
        links={},
        edit_count=lease.count("editCount"),
    )
    before = snapshot(part)
    entries = [m.entry() for m in new.values()]
    index = None
    if lease.count("faceCount") == 0:  # a fresh album: the batch algorithm over its first faces
        part.add_faces(entries)
        if len(entries) > 1:
            part.recluster()
    else:
        index = _index(lease, entries[0].vector.shape[-1])
        part.add_faces(entries, index=index)
    return part, before, known, index


def add_faces(user_id: str, album_id: str, photo_ids: Iterable[str]) -> int:
    """The embedded faces of these photos (those still PROCESSING or PROCESSED) join the album's
    people; faces placed before are left where they are (a retry adds nothing twice)."""
    ready = {
        p: int(i.get("faceCount", 0))
        for p, i in photo_fields(album_id, photo_ids).items()
        if i["status"] in PEOPLE_PHOTO_STATUSES
    }
    with people.held(user_id, album_id, WRITER_WAIT_SECONDS) as lease:
        found = [f for f in faces.faces_of(album_id, ready) if f.get("embeddingKey")]
        where = people.face_clusters(album_id, [f["faceId"] for f in found])
        if all(f["faceId"] in where for f in found):
            return 0
        every = _members(found)  # each photo's vectors object read once
        new = {f: m for f, m in every.items() if f not in where}
        placed = {f: (where[f], m) for f, m in every.items() if f in where}
        part, before, known, index = _place(lease, new, placed)
        changes = changes_since(part, before)
        records = people.clusters(album_id, {c for _, c in changes.moves.values()})
        try:
            seq = people.commit(lease, people.writes_for(lease, changes, known, records))
        except Exception:
            _keep_warm(album_id, 0, None)
            raise
        _keep_warm(album_id, seq, index)
        return len(new)


# ---------------------------------------------------------------- the FIFO queue's batches


def _answer(token: str, output: dict[str, Any] | None, error: Exception | None) -> None:
    sfn = client("stepfunctions")
    try:
        if error is None:
            sfn.send_task_success(taskToken=token, output=json.dumps(output))
        else:
            name = (
                "TransientStepError"
                if isinstance(error, TransientStepError)
                else type(error).__name__
            )
            sfn.send_task_failure(taskToken=token, error=name, cause=str(error)[:32000])
    except ClientError as err:
        # A token already answered (a redelivered message) or timed out: nothing left to tell.
        if err.response["Error"]["Code"] not in (
            "TaskTimedOut",
            "InvalidToken",
            "TaskDoesNotExist",
        ):
            raise


def _cluster_album(
    user_id: str, album_id: str, photo_ids: list[str]
) -> tuple[int, Exception | None]:
    try:
        return add_faces(user_id, album_id, photo_ids), None
    except people.StoreBusy as err:
        return 0, TransientStepError(str(err))
    except ClientError as err:
        if is_transient(err):
            return 0, TransientStepError(str(err))
        return 0, err
    except Exception as err:  # the job fails with the reason (the state's Catch)
        if not album_alive(user_id, album_id):
            return 0, None  # the deletion took what it read: each job ends CANCELLED below
        return 0, err


def run_batch(messages: list[dict[str, Any]]) -> dict[str, int]:
    """One invocation's messages (SQS FIFO: each album's in order): per album, every job's
    photos placed at once, then every job's token answered, then a recluster if one was asked
    (faceflow.edge.people.recluster for a large album). Returns faces placed per album."""
    by_album: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for message in messages:
        by_album.setdefault((message["userId"], message["albumId"]), []).append(message)
    placed: dict[str, int] = {}
    for (user_id, album_id), batch in by_album.items():
        jobs_ = [m for m in batch if m.get("kind") != "recluster"]
        placed[album_id] = _run_jobs(user_id, album_id, jobs_) if jobs_ else 0
        if len(jobs_) < len(batch) and album_alive(user_id, album_id):
            people_cases.recluster_now(user_id, album_id, WRITER_WAIT_SECONDS)
    return placed


def _run_jobs(user_id: str, album_id: str, batch: list[dict[str, Any]]) -> int:
    for message in batch:
        jobs.advance(album_id, message["jobId"], "Cluster")
    photo_ids = sorted({p for m in batch for p in m["photoIds"]})
    count, error = _cluster_album(user_id, album_id, photo_ids)
    alive = album_alive(user_id, album_id)
    for message in batch:
        job = {k: message[k] for k in ("albumId", "userId", "jobId", "photoIds")}
        if not alive:  # deleted before or while it ran: no failure of the job
            jobs.finish(album_id, message["jobId"], "CANCELLED")
            _answer(message["taskToken"], {**job, "cancelled": True}, None)
        else:
            _answer(message["taskToken"], {**job, "faces": count}, error)
    return count
