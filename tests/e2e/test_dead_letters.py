"""A swap whose retries are exhausted ends FAILED (issue 10), end to end in the local runtime:
the endpoint drops every request (the connection closes unanswered, as a dying endpoint's
would), face swap raises on each of its 3 deliveries, the dispatcher moves the event to the
trigger's DLQ, and the dead-letter function (the template's consumer of the swap's on-failure
queue) ends the style and the process FAILED with a reason the progress route shows."""

from __future__ import annotations

import pytest

from local.photos import astronaut
from tests.e2e.conftest import User, jpeg

pytestmark = pytest.mark.e2e


def test_a_swap_whose_retries_are_exhausted_ends_failed(backend, monkeypatch):
    user = User.sign_up(backend)
    user.agree()
    style = user.styles()[0]["resourceId"]

    def endpoint_drops(request):
        raise ConnectionAbortedError("the endpoint dropped the request")

    monkeypatch.setattr(backend.inference, "submit", endpoint_drops)
    dead_before = backend.dispatcher.dead_letters
    process_id = user.upload(jpeg(astronaut()), [style])

    done = user.wait(process_id, timeout=120)
    assert done["status"] == "FAILED", done
    assert done["error"]["code"] == "SWAP_FAILED"
    assert done["styles"][style]["status"] == "FAILED"
    assert "try again later" in done["styles"][style]["error"]["message"]
    assert backend.dispatcher.dead_letters > dead_before  # it went through the DLQ
