"""The album pipeline's Lambda handlers: the S3→SQS starter and one handler per state machine
task, each one faceflow.edge call. Imports: faceflow (and through it facekit, Pillow, numpy,
imagehash, boto3).

Every handler is wrapped like the styling ones (common.observability.lambda_entry: logger
context, X-Ray segment, metrics flush). Every step but FailJob is a no-op once its album is gone
(faceflow.edge.pipeline.cancelled_when_album_gone): a user deleting an album mid-job is no
failure."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent

from common.observability import lambda_entry
from faceflow.edge import clusterer, face_steps, photo_steps, pipeline, starter
from faceflow.edge.pipeline import cancelled_when_album_gone


@lambda_entry()
def start(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """SQS batch of S3 ObjectCreated notifications → jobs (one per album) started."""
    return starter.start_from_queue(event)


@lambda_entry()
@cancelled_when_album_gone
def process_photo(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return photo_steps.process_photo(event)


@lambda_entry()
@cancelled_when_album_gone
def dedupe(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.dedupe(event)


@lambda_entry()
@cancelled_when_album_gone
def cluster(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """The Cluster step called directly (tests, tools); the state machine goes through the
    cluster FIFO queue to `cluster_writer`."""
    return face_steps.cluster(event)


@lambda_entry()
def cluster_writer(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    """SQS FIFO batch of Cluster jobs (the album's message group) → faces placed, each job's
    task token answered (faceflow.edge.clusterer)."""
    return clusterer.run_batch([json.loads(r.body) for r in SQSEvent(event).records])


@lambda_entry()
@cancelled_when_album_gone
def notify(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.notify(event)


@lambda_entry()
def fail_job(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.fail_job(event)
