"""Which Host headers the local server's own routes answer (issue 25 item 5: DNS rebinding), and
the Expo app's web export it serves under /mobile/ (issue 29)."""

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


def _get(front, path: str, host: str = "127.0.0.1:8000") -> tuple[str, dict[str, str], bytes]:
    import io

    answer: dict[str, object] = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    body = front(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "REQUEST_URI": path,
            "HTTP_HOST": host,
            "wsgi.input": io.BytesIO(),
        },
        start_response,
    )
    return str(answer["status"]), answer["headers"], b"".join(body)  # type: ignore[return-value]


@pytest.fixture
def front_with_app(tmp_path):
    """A Front serving a stand-in for the Expo web export (clients/mobile/dist)."""
    from local.server import Front

    mobile = tmp_path / "dist"
    (mobile / "_expo" / "static" / "js" / "web").mkdir(parents=True)
    (mobile / "index.html").write_text("<html>app</html>")
    (mobile / "_expo" / "static" / "js" / "web" / "index-1.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not served")
    return Front(None, None, {}, None, mobile=mobile, hosts=ServedHosts("127.0.0.1", 8000))


def test_the_mobile_web_export_is_served_under_mobile(front_with_app):
    status, headers, body = _get(front_with_app, "/mobile/")
    assert status.startswith("200") and body == b"<html>app</html>"
    assert headers["Content-Type"] == "text/html"
    status, headers, body = _get(front_with_app, "/mobile/_expo/static/js/web/index-1.js")
    assert status.startswith("200") and body == b"console.log(1)"
    assert headers["Content-Type"] in ("text/javascript", "application/javascript")
    # A single-page app: another path under it is the app's own page.
    assert _get(front_with_app, "/mobile/albums")[2] == b"<html>app</html>"
    assert _get(front_with_app, "/mobile")[2] == b"<html>app</html>"


def test_nothing_outside_the_export_nor_for_another_host_is_served(front_with_app):
    status, _, body = _get(front_with_app, "/mobile/../secret.txt")
    assert status.startswith("404") and body != b"not served"
    assert _get(front_with_app, "/mobile/", host="evil.example:8000")[0].startswith("403")


def test_without_a_built_export_mobile_is_a_404(tmp_path):
    from local.server import Front

    hosts = ServedHosts("127.0.0.1", 8000)
    front = Front(None, None, {}, None, mobile=tmp_path / "none", hosts=hosts)
    status, _, body = _get(front, "/mobile/")
    assert status.startswith("404") and b"NOT_FOUND" in body
