"""The pipeline's Cluster step called directly (the whole job): the job's embedded faces join the
album's people through faceflow.edge.clusterer, as the album's one writer places them (the state
machine's Cluster state goes through the cluster FIFO queue to that writer). Like the other steps
(faceflow.edge.pipeline) it acts only on its own job's photos and writes under deterministic keys,
so a retried task finds its work done and does nothing twice. The faces and their vectors are
ProcessPhoto's (faceflow.edge.photo_steps).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from common.aws import is_transient
from faceflow.edge import clusterer
from faceflow.edge.pipeline import TransientStepError, _job
from faceflow.storage import jobs, people


def cluster(event: dict[str, Any]) -> dict[str, Any]:
    """The job's faces placed at once."""
    album_id, job_id = event["albumId"], event["jobId"]
    jobs.advance(album_id, job_id, "Cluster")
    try:
        added = clusterer.add_faces(event["userId"], album_id, event["photoIds"])
    except people.StoreBusy as err:  # another writer held the people: retry with backoff
        raise TransientStepError(str(err)) from err
    except ClientError as err:
        if is_transient(err):
            raise TransientStepError(str(err)) from err
        raise
    return {**_job(event), "faces": added}
