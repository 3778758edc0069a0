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


class _SearchPaths(list):
    """A shared loader's search paths: boto3 appends its own folder once per Session."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def _share_botocore_loaders() -> None:
    """One botocore data loader per process, as within one Session: style_backend.aws makes a new
    Session per client and the tests forget the clients after each case, so every test parsed
    the service models' JSON again (~0.15 s a client, most of an integration test). The models
    are read-only data; sessions, credentials, endpoints and clients stay new per test."""
    from botocore import loaders, session

    shared: dict[str | None, loaders.Loader] = {}

    def create_loader(search_path_string: str | None = None) -> loaders.Loader:
        if search_path_string not in shared:
            loader = loaders.create_loader(search_path_string)
            loader._search_paths = _SearchPaths(loader.search_paths)
            shared[search_path_string] = loader
        return shared[search_path_string]

    session.create_loader = create_loader


_share_botocore_loaders()


@pytest.fixture(autouse=True)
def _fresh_boto_clients():
    """Cached clients (and the URL signer) must not survive into a test that mocks differently."""
    from faceflow import signing
    from style_backend import aws

    aws.reset()
    signing.reset()
    yield
    aws.reset()
    signing.reset()
