"""boto3 clients and resources, created once per process (Lambda container reuse).

Endpoints come from the environment (AWS_ENDPOINT_URL…), read by boto3 itself: the same code runs
on AWS and against the local runtime. Retries use botocore's adaptive mode, which backs off on
throttling and 5xx; callers see only errors that outlived it.
"""

from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, signature_version="s3v4")


@cache
def client(service: str):
    return boto3.session.Session().client(service, config=_CONFIG)


@cache
def table(name: str):
    return boto3.session.Session().resource("dynamodb", config=_CONFIG).Table(name)


def reset() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    client.cache_clear()
    table.cache_clear()
