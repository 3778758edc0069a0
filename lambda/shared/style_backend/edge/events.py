"""The events that reach the pipeline handlers: S3 notifications and the SageMaker
async-inference notifications delivered through SNS, read with Powertools' event data classes.
Malformed parts are skipped, never raised: a handler must not turn one bad record into a retry
storm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SNSEvent

from style_backend.storage import keys


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str  # decoded: S3 sends keys URL-encoded with '+' for spaces
    size: int | None  # as the event reports it, when it does


def s3_objects(event: dict[str, Any]) -> Iterator[S3Object]:
    """The objects of an S3 notification event (records of other kinds are skipped)."""
    if not isinstance(event.get("Records"), list):
        return
    for record in S3Event(event).records:
        try:
            obj = record.s3.get_object
            size = obj.raw_event.get("size")
            yield S3Object(
                bucket=record.s3.bucket.name,
                key=unquote_plus(obj.key),  # S3 sends keys URL-encoded, '+' for spaces
                size=int(size) if size is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue


class MalformedNotification(ValueError):
    """An SNS message that is not an async-inference notification of ours: dropped."""


@dataclass(frozen=True)
class InferenceNotification:
    succeeded: bool
    inference_id: str
    process_id: str
    resource_id: str
    output_location: str | None  # s3:// URI of the response (success)
    failure_location: str | None  # s3:// URI of the error body (failure), when SageMaker wrote one
    failure_reason: str | None


def sns_messages(event: dict[str, Any]) -> Iterator[str]:
    """The raw `Message` strings of an SNS-to-Lambda event."""
    if not isinstance(event.get("Records"), list):
        return
    for record in SNSEvent(event).records:
        try:
            message = record.sns.message
        except (KeyError, TypeError, AttributeError):
            continue
        if isinstance(message, str):
            yield message


def parse_inference_notification(message: str) -> InferenceNotification:
    """The async-inference notification JSON (docs/architecture.md); MalformedNotification if
    it is not one or does not point at one of our requests."""
    try:
        body = json.loads(message)
        status = body["invocationStatus"]
        request = body.get("requestParameters") or {}
        response = body.get("responseParameters") or {}
        _, input_key = keys.parse_s3_uri(request["inputLocation"])
        ref = keys.parse_inference_request_key(input_key)
    except (ValueError, KeyError, TypeError, AttributeError, keys.InvalidKey) as err:
        raise MalformedNotification(str(err)) from err
    if status not in ("Completed", "Failed"):
        raise MalformedNotification(f"unknown invocationStatus {status!r}")
    inference_id = body.get("inferenceId")
    if inference_id != keys.inference_id(ref.process_id, ref.resource_id):
        raise MalformedNotification(f"inferenceId {inference_id!r} does not match its input")
    return InferenceNotification(
        succeeded=status == "Completed",
        inference_id=inference_id,
        process_id=ref.process_id,
        resource_id=ref.resource_id,
        output_location=response.get("outputLocation"),
        failure_location=response.get("failureLocation"),
        failure_reason=body.get("failureReason"),
    )
