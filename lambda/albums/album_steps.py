"""The album pipeline's Lambda handlers: the S3→SQS starter and one handler per state machine
task. Imports: faceflow (and through it facekit, Pillow, numpy, imagehash, boto3).

Every step but FailJob is a no-op once its album is gone (jobs.cancelled_when_album_gone): a
user deleting an album mid-job is no failure."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from faceflow import face_steps, jobs, pipeline


def start(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """SQS batch of S3 ObjectCreated notifications → jobs (one per album) started."""
    keys = []
    for record in event.get("Records", []):
        body = json.loads(record["body"])
        for s3_record in body.get("Records", []):  # S3's test event has none
            keys.append(unquote_plus(s3_record["s3"]["object"]["key"]))
    started = jobs.start_jobs(keys)
    return {"jobs": [j["jobId"] for j in started]}


@jobs.cancelled_when_album_gone
def extract_exif(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.extract_exif(event)


@jobs.cancelled_when_album_gone
def dedupe(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.dedupe(event)


@jobs.cancelled_when_album_gone
def detect_align(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return face_steps.detect_align(event)


@jobs.cancelled_when_album_gone
def embed(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return face_steps.embed(event)


@jobs.cancelled_when_album_gone
def cluster(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return face_steps.cluster(event)


@jobs.cancelled_when_album_gone
def notify(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.notify(event)


def fail_job(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return pipeline.fail_job(event)
