"""The FaceChain async endpoint (SageMaker runtime): hand it a request written to the bucket."""

from __future__ import annotations

from typing import Any

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.storage import keys


def invoke_async(
    bucket: str, request_key: str, inference_id: str, *, attempts: int, base_delay: float
) -> dict[str, Any]:
    """InvokeEndpointAsync on the request object (throttling and 5xx retried with backoff)."""
    runtime = aws.client("sagemaker-runtime")
    return aws.retry_transient(
        lambda: runtime.invoke_endpoint_async(
            EndpointName=config.get(EnvVar.ENDPOINT_NAME),
            InputLocation=keys.s3_uri(bucket, request_key),
            ContentType="application/json",
            InferenceId=inference_id,
        ),
        attempts=attempts,
        base_delay=base_delay,
    )
