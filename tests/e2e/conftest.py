"""The whole local backend (the real app's templates), started once per test session, and a
client that uses it over HTTP as the web page does."""

from __future__ import annotations

import pytest

from local.client import TERMINAL, User, decode, jpeg  # noqa: F401 (the tests' client)
from local.runtime import LocalBackend


@pytest.fixture(scope="session")
def backend() -> LocalBackend:
    started = LocalBackend(port=0)
    started.start()
    yield started
    started.stop()
