"""boto3 clients and resources, created once per process (Lambda container reuse).

Endpoints come from the environment (AWS_ENDPOINT_URL…), read by boto3 itself: the same code runs
on AWS and against the local runtime. Retries use botocore's adaptive mode, which backs off on
throttling and 5xx; callers see only errors that outlived it. The SageMaker runtime is the
exception: its callers retry with `retry_transient`, one explicit policy with a known worst case,
rather than botocore's attempts nested inside theirs.

boto3 is imported on first use, not at import: the stacks and the OpenAPI generator import the
API's routes (and so the domain modules) without loading botocore.

The error-code lists and the conditional-check test live here once, for every caller (domain
modules, the API edge, the local runtime and the model server).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import cache
from typing import TypeVar

T = TypeVar("T")


@cache
def _config(service: str | None = None):
    from botocore.config import Config

    if service == "sagemaker-runtime":
        return Config(retries={"mode": "standard", "total_max_attempts": 1})
    return Config(retries={"mode": "adaptive", "max_attempts": 5}, signature_version="s3v4")


@cache
def client(service: str):
    import boto3

    return boto3.session.Session().client(service, config=_config(service))


@cache
def client_at(service: str, endpoint_url: str):
    """A client of one endpoint the caller names (API Gateway's management API is per API)."""
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "adaptive", "max_attempts": 5})
    return boto3.session.Session().client(service, endpoint_url=endpoint_url, config=retries)


@cache
def table(name: str):
    import boto3

    return boto3.session.Session().resource("dynamodb", config=_config()).Table(name)


def reset() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    client.cache_clear()
    client_at.cache_clear()
    table.cache_clear()


# Throttling that outlived botocore's retries (DynamoDB, S3, SageMaker): the caller backs off.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)
TRANSIENT_CODES = THROTTLING_CODES | {
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "InternalError",
}


def error_code(err: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (None for anything else)."""
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return None
    return (response.get("Error") or {}).get("Code")


def is_throttling(err: BaseException) -> bool:
    return error_code(err) in THROTTLING_CODES


def condition_failed(err: BaseException) -> bool:
    """A conditional write (ConditionExpression) found its condition false."""
    return error_code(err) == "ConditionalCheckFailedException"


def is_transient(err: Exception) -> bool:
    """Throttling, 5xx and network errors: worth another try. Anything else is permanent."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(err, ConnectionError | ReadTimeoutError):
        return True
    if not isinstance(err, ClientError):
        return False
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return error_code(err) in TRANSIENT_CODES or status >= 500


def retry_transient(
    call: Callable[[], T],
    *,
    attempts: int = 4,
    base_delay: float = 0.25,
    max_delay: float = 4.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying transient errors with exponential backoff and full jitter
    (delay drawn from [0, min(max_delay, base_delay·2^n)]); the last error is raised.

    botocore's adaptive mode retries too, but it gives up within one request's budget; this
    outer loop spreads a burst of Lambdas over a few seconds before handing the event back to
    the asynchronous invocation's own retries (and then the DLQ).
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as err:
            if attempt == attempts - 1 or not is_transient(err):
                raise
            sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
    raise AssertionError("unreachable")
