"""The whole local backend (the real app's templates), started once for the e2e tests, and a
client that uses it over HTTP as the web page does."""

from __future__ import annotations

import pytest

from local.client import TERMINAL, User, decode, jpeg  # noqa: F401 (the tests' client)
from local.runtime import LocalBackend


@pytest.fixture(scope="package")
def backend() -> LocalBackend:
    """Package scope: the backend (moto server, pollers, workers) stops when the e2e tests end,
    before other tests' moto mocks reset the state its pollers read."""
    started = LocalBackend(port=0)
    started.start()
    yield started
    started.stop()
