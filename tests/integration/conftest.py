"""moto-backed AWS for the pipeline handlers: the bucket and the tables they use, keyed as in
docs/architecture.md, created through the service APIs, plus builders of the real event shapes
(S3 notifications, SNS-delivered async-inference notifications)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from common import aws
from style_backend.config import EnvVar
from style_backend.domain.uploads import UPLOAD_EXTENSIONS
from style_backend.edge import face_swap as swap_step
from style_backend.storage import keys
from style_backend.storage.processes import ProcessStore
from tests import hostile
from tests.tables import create_tables

# Names of our own, so that another session-wide moto backend (the API tests') never collides.
BUCKET = "style-pipeline-test"
TABLE_PREFIX = "Pipeline"
PROCESS_TABLE = f"{TABLE_PREFIX}Process"
DISPLAY_TABLE = f"{TABLE_PREFIX}Display"
BASE_RESOURCE_TABLE = f"{TABLE_PREFIX}BaseResource"
DISPLAY_HISTORY_TABLE = f"{TABLE_PREFIX}DisplayHistory"
USER_AGREEMENT_TABLE = f"{TABLE_PREFIX}UserAgreement"
ENDPOINT = "facechain-async"
USER = "3f1c2a9e-7b5d-4c1e-9a2f-0d8e6b4c1a77"  # Cognito subs contain hyphens
STYLES = ("style-a", "style-b")

ENV = {
    EnvVar.BUCKET_NAME: BUCKET,
    EnvVar.PROCESS_TABLE: PROCESS_TABLE,
    EnvVar.DISPLAY_TABLE: DISPLAY_TABLE,
    EnvVar.BASE_RESOURCE_TABLE: BASE_RESOURCE_TABLE,
    EnvVar.DISPLAY_HISTORY_TABLE: DISPLAY_HISTORY_TABLE,  # erasure's
    EnvVar.USER_AGREEMENT_TABLE: USER_AGREEMENT_TABLE,
    EnvVar.MAX_UPLOAD_BYTES: str(10 * 1024 * 1024),
    EnvVar.ENDPOINT_NAME: ENDPOINT,
}


@cache
def _style_image() -> bytes:
    from skimage import data

    return hostile.jpeg(data.chelsea())


@pytest.fixture(scope="module")
def _pipeline_moto():
    """One moto backend for a module of pipeline tests (module scope: it ends with the module
    and never leaks into others, whatever runs next on an xdist worker; package scope would
    outlive it into tests/integration/*/ there): the bucket, the tables and the seeded style
    images, created once per module (~1 s); `aws_env` empties the rest after each test."""
    with mock_aws():
        create_tables(boto3.client("dynamodb"), prefix=TABLE_PREFIX)
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        base = boto3.resource("dynamodb").Table(BASE_RESOURCE_TABLE)
        for resource_id in (*STYLES, "retired"):
            base.put_item(
                Item={
                    "resourceId": resource_id,
                    "theme": "office",
                    "gender": "female",
                    "skinTone": "medium",
                    "styleKey": "office#female#medium",
                    "imageKey": keys.base_key(resource_id),
                    "active": resource_id != "retired",
                }
            )
            s3.put_object(Bucket=BUCKET, Key=keys.base_key(resource_id), Body=_style_image())
        yield


@pytest.fixture
def aws_env(_pipeline_moto, monkeypatch):
    """Our environment variables; every object but the style images and every Process and
    Display item are removed after the test."""
    for name, value in ENV.items():
        monkeypatch.setenv(name.value, value)
    yield
    bucket = boto3.resource("s3").Bucket(BUCKET)
    for obj in bucket.objects.all():
        if not obj.key.startswith(keys.BASE):
            obj.delete()
    ddb = boto3.resource("dynamodb")
    for name, key_names in (
        (PROCESS_TABLE, ["processId"]),
        (DISPLAY_TABLE, ["userId", "resultId"]),
    ):
        table = ddb.Table(name)
        with table.batch_writer() as batch:
            for item in table.scan()["Items"]:
                batch.delete_item(Key={k: item[k] for k in key_names})


@dataclass
class Pipeline:
    """What a test needs to drive the handlers the way S3 and SNS do."""

    s3: Any
    store: ProcessStore

    def create(self, styles=STYLES, ext: str = "jpg", user: str = USER) -> dict[str, Any]:
        content_type = {v: k for k, v in UPLOAD_EXTENSIONS.items()}[ext]
        return self.store.create(
            user, list(styles), lambda pid: keys.upload_key(user, pid, content_type), 30
        )

    def upload(self, data: bytes, styles=STYLES, ext: str = "jpg") -> dict[str, Any]:
        """A CREATED process and its uploaded file; returns the process item."""
        process = self.create(styles, ext)
        self.s3.put_object(Bucket=BUCKET, Key=process["sourceKey"], Body=data)
        return process

    def get(self, process_id: str) -> dict[str, Any]:
        return self.store.get(process_id)

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        return self.s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0) > 0


@pytest.fixture
def pipeline(aws_env) -> Pipeline:
    return Pipeline(s3=boto3.client("s3"), store=ProcessStore())


@pytest.fixture
def endpoint(aws_env, monkeypatch):
    """The sagemaker-runtime client the handlers use, stubbed: every call must be expected (a
    call nobody expected fails the test: no GPU work behind the test's back)."""
    monkeypatch.setattr(swap_step, "RETRY_BASE_DELAY", 0.001)
    with Stubber(aws.client("sagemaker-runtime")) as stub:
        yield stub
        stub.assert_no_pending_responses()


def s3_event(key: str, bucket: str = BUCKET, size: int = 1) -> dict[str, Any]:
    """An S3 ObjectCreated notification as Lambda receives it (key URL-encoded, '+' = space)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-west-2",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size},
                },
            }
        ]
    }


def inference_notification(
    process_id: str,
    resource_id: str,
    *,
    output_key: str | None = None,
    failure_reason: str | None = None,
) -> dict[str, Any]:
    """The SageMaker async-inference notification JSON (success when output_key is given)."""
    input_location = f"s3://{BUCKET}/{keys.inference_request_key(process_id, resource_id)}"
    message: dict[str, Any] = {
        "awsRegion": "us-west-2",
        "eventTime": "2026-11-21T05:00:00.000Z",
        "receivedTime": "2026-11-21T04:59:50.000Z",
        "invocationStatus": "Completed" if output_key else "Failed",
        "inferenceId": keys.inference_id(process_id, resource_id),
        "requestParameters": {
            "contentType": "application/json",
            "endpointName": ENDPOINT,
            "inputLocation": input_location,
        },
        "responseParameters": {"contentType": "image/jpeg"},
    }
    if output_key:
        message["responseParameters"]["outputLocation"] = f"s3://{BUCKET}/{output_key}"
    else:
        message["failureReason"] = failure_reason or "ClientError: Received server error (500)"
        message["responseParameters"]["failureLocation"] = (
            f"s3://{BUCKET}/{keys.INFERENCE_FAILED}{process_id}-{resource_id}.out"
        )
    return message


def sns_event(*messages: dict[str, Any] | str) -> dict[str, Any]:
    """SNS → Lambda event carrying each message (dicts are JSON-encoded as SNS does)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {
                    "Type": "Notification",
                    "TopicArn": "arn:aws:sns:us-west-2:123456789012:facechain-success",
                    "Message": m if isinstance(m, str) else json.dumps(m),
                },
            }
            for m in messages
        ]
    }


def styled_jpeg(crop: bytes) -> bytes:
    """Stand-in for the swap engine's output: a real transform of the real crop (mirrored and
    warmed up), so results/ holds a picture made from this user's face."""
    import io

    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.mirror(Image.open(io.BytesIO(crop)).convert("RGB"))
    warm = np.asarray(image).astype(np.int16) + np.array([18, 6, -12])
    return hostile.jpeg(np.clip(warm, 0, 255).astype(np.uint8))
