"""Which Host headers the local server's own routes answer (issue 25 item 5: DNS rebinding)."""

from __future__ import annotations

import socket

import pytest

from local.server import ServedHosts


@pytest.mark.parametrize(
    ("host", "value", "served"),
    [
        ("127.0.0.1", "127.0.0.1:8000", True),
        ("127.0.0.1", "localhost:8000", True),
        ("127.0.0.1", "LOCALHOST:8000", True),
        ("127.0.0.1", "evil.example:8000", False),
        ("127.0.0.1", "127.0.0.1:8001", False),
        ("127.0.0.1", "127.0.0.1", False),  # port 80
        ("127.0.0.1", "127.0.0.2:8000", False),  # not an address it listens on
        ("127.0.0.1", "evil@127.0.0.1:8000", False),
        ("127.0.0.1", "", False),
        ("::1", "[::1]:8000", True),
        ("::1", "localhost:8000", True),
        ("0.0.0.0", "192.168.1.20:8000", True),  # every address
        ("0.0.0.0", "localhost:8000", True),
        ("0.0.0.0", "evil.example:8000", False),
        ("192.168.1.20", "localhost:8000", False),  # localhost is another address
    ],
)
def test_only_the_server_s_own_names_are_served(host, value, served):
    assert (value in ServedHosts(host, 8000)) is served


def test_port_80_may_be_left_out_and_a_wildcard_bind_answers_its_machine_s_name():
    assert "localhost" in ServedHosts("127.0.0.1", 80)
    assert f"{socket.gethostname()}:8000" in ServedHosts("0.0.0.0", 8000)
    assert str(ServedHosts("127.0.0.1", 8000)) == "127.0.0.1:8000 or localhost:8000"
