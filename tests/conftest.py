"""Test-wide set-up: no real AWS credentials or endpoints can leak into a test."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

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
    """One botocore data loader per process, as within one Session: common.aws makes a new
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

# How `pytest -n N --dist loadgroup` (make check, make test) shares the tests out, by path: each
# group runs whole on one worker, in collection order. The groups are made here, from node ids,
# because xdist 3.8 cannot see `xdist_group` marks under pytest 9.2 (pytest-xdist#1386).
# - every e2e test: one group, so one worker starts the local runtime once (package scope),
#   runs the e2e tests in order, and no in-process moto mock of another test runs beside the
#   runtime's pollers;
# - every module using the synthesized app (tests/unit/conftest.py: `synth`, `synth_overridden`,
#   ~20 s each): one group, so the app is synthesized once;
# - any other module: a group of its own, so its module-scoped fixtures (photos ingested, models
#   trained, moto backends) are built once, as in a serial run.
E2E = "tests/e2e/"
_USES_SYNTH = re.compile(r"def \w+\([^)]*\bsynth(?:_overridden)?\b", re.DOTALL)


@functools.cache
def xdist_group(root: Path, module: str) -> str:
    if module.startswith(E2E):
        return "e2e"
    path = root / module
    if path.is_file() and _USES_SYNTH.search(path.read_text()):
        return "cdk-synth"
    return module


# optionalhook: a checkout without pytest-xdist still runs (serially).
@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(config.rootpath, nodeid.split("::")[0])

    return LaneScheduling(config, log)


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
