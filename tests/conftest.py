"""Test-wide set-up: no real AWS credentials or endpoints can leak into a test."""

from __future__ import annotations

import os

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-west-2",
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
)
for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[var]


@pytest.fixture(autouse=True)
def _fresh_boto_clients():
    """Cached clients (and the URL signer) must not survive into a test that mocks differently."""
    from common import aws
    from faceflow.storage import signing_keys

    aws.reset()
    signing_keys.reset()
    yield
    aws.reset()
    signing_keys.reset()
