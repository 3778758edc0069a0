"""The local AWS (moto's server, `local/motoserver.py`) under the album pipeline's concurrency
(issue 25 item 8): moto's DynamoDB is not thread-safe, and the runtime must not lean on botocore's
retries to hide it."""

from __future__ import annotations

import sys

import pytest

from local.motoserver import MotoServer
from tests.dynamodb_load import one_partition_load

pytestmark = pytest.mark.e2e


@pytest.fixture
def moto_server():
    server = MotoServer()
    server.start()
    yield server
    server.stop()


def test_concurrent_writes_and_queries_on_one_partition_get_no_server_error(moto_server):
    """Without the runtime's DynamoDB lock, moto's Query iterates a table's items while a PutItem
    adds one ("RuntimeError: dictionary changed size during iteration", an HTTP 500) a few times
    in these 800 calls; with it, never."""
    switch_interval = sys.getswitchinterval()
    # Threads switch every microsecond instead of every 5 ms: a race the pipeline hits now and
    # then shows in every run of a few seconds.
    sys.setswitchinterval(1e-6)
    try:
        result = one_partition_load(moto_server.url, clients=32, calls=800, items=500)
    finally:
        sys.setswitchinterval(switch_interval)
    assert result.server_errors == []
    assert len(result.latencies_s) == 800
