"""The one HTTP port of the local backend, as a WSGI app served by waitress (`local.httpd`): the API
(as API Gateway serves it, under its stage), the web page, /config.json, the local-only
sign-up/sign-in helper (`local.auth`) and the local-only outbox of sent emails
(GET /local/outbox, `local.outbox`).

Everything but the API answers only requests whose Host names this server (`ServedHosts`): a page
of another site whose name its owner re-points at 127.0.0.1 (DNS rebinding) is same-origin with
it in the browser, but sends its own name as Host.

Presigned S3 URLs point at the local S3 front (`local.s3front`), which checks signatures, expiry
and POST policies as S3 does before moto sees the request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import re
import socket
from collections.abc import Callable, Container, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.auth import LocalAuth
from local.httpd import (  # noqa: F401 (PortBusy, check_port: the callers' errors and check)
    PortBusy,
    check_port,
    request_headers,
    status_line,
)

log = logging.getLogger("local.http")
WEB = Path(__file__).resolve().parent / "web"
# The Expo app's web export (`make mobile`), served under /mobile/ when built: same origin as
# /config.json and the API, as a deployed app beside its stack.
MOBILE = Path(__file__).resolve().parent.parent / "clients" / "mobile" / "dist"
MAX_BODY = 1024 * 1024  # API bodies are small JSON; uploads go to S3, not here

# (method, raw path with query, header pairs, body, source ip) → (status, headers, body)
Gateway = Callable[
    [str, str, list[tuple[str, str]], bytes | None, str], tuple[int, dict[str, str], bytes]
]


def error_body(status: int, code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def render_error(status: int, detail: str) -> tuple[str, bytes]:
    """Errors waitress answers before the app runs (bad framing, a body over the limit)."""
    code = {413: "BODY_TOO_LARGE"}.get(status, "BAD_REQUEST")
    return "application/json", error_body(status, code, detail.split("\n")[0][:200])


# A Host header: a name or IPv4 address, or an IPv6 address in brackets; an optional port.
_HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class ServedHosts(Container[str]):
    """The Host header values that name a server listening on `host`:`port`: its address, and
    `localhost` when that is a loopback address; bound to every address (0.0.0.0, ::), any IP
    address, `localhost` and the machine's own name. No attacker can make a browser send one of
    these for a page of theirs: DNS rebinding needs a name of the attacker's."""

    def __init__(self, host: str, port: int):
        self.port = port
        self.bound = _address(host)
        self.everywhere = self.bound is not None and self.bound.is_unspecified
        self.names = {host.lower()}
        if host.lower() == "localhost" or (self.bound is not None and self.bound.is_loopback):
            self.names.add("localhost")
        if self.everywhere:
            self.names |= {"localhost", socket.gethostname().lower()}

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str) or not _HOST_HEADER.fullmatch(value):
            return False
        parts = urlsplit(f"//{value}")
        if (parts.port or 80) != self.port or not parts.hostname:
            return False
        name = parts.hostname.rstrip(".")
        address = _address(name)
        if address is None:
            return name in self.names
        return self.everywhere or address == self.bound

    def __str__(self) -> str:
        shown = [f"[{n}]" if ":" in n else n for n in sorted(self.names)]
        return " or ".join(f"{n}:{self.port}" for n in shown)


class Front:
    """The WSGI app. Built from what it serves, not from the backend that assembled it."""

    def __init__(
        self,
        stage: str | None,
        gateway: Gateway | None,
        client_config: dict[str, str],
        auth: LocalAuth | None,
        web: Path = WEB,
        mobile: Path = MOBILE,
        outbox: Callable[[], list[dict[str, Any]]] | None = None,
        *,
        hosts: ServedHosts,
    ):
        self.stage_prefix = f"/{stage}" if stage else None
        self.gateway = gateway
        self.config = json.dumps(client_config).encode()
        self.auth = auth
        self.outbox = outbox
        self.web = web.resolve()
        self.mobile = mobile.resolve()
        self.hosts = hosts

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")  # still %-encoded
        path = raw.split("?", 1)[0]
        length = int(environ.get("CONTENT_LENGTH") or 0)  # waitress checked it is a number
        if length > MAX_BODY:
            message = f"request bodies are limited to {MAX_BODY} bytes"
            return self._json(start_response, 413, error_body(413, "BODY_TOO_LARGE", message))
        body = environ["wsgi.input"].read(length) if length else b""
        stage = self.stage_prefix
        if stage and (path == stage or path.startswith(stage + "/")):
            status, headers, data = self._api(method, raw[len(stage) :] or "/", environ, body)
        elif environ.get("HTTP_HOST") not in self.hosts:
            # Everything else exists only locally (the outbox's links, sign-in, the page).
            message = f"this server answers requests for {self.hosts} only"
            status, headers = 403, {"Content-Type": "application/json"}
            data = error_body(403, "FORBIDDEN", message)
        elif path == "/config.json" and method in ("GET", "HEAD"):
            status, headers, data = 200, {"Content-Type": "application/json"}, self.config
        elif path.startswith("/local/auth/") and method == "POST":
            status, headers, data = self._auth(path.removeprefix("/local/auth/"), environ, body)
        elif path == "/local/outbox" and method in ("GET", "HEAD"):
            status, headers, data = self._outbox(environ)
        elif method in ("GET", "HEAD"):
            status, headers, data = self._static(path)
        else:
            # As the gateway answers a method or path it has no route for.
            status, headers, data = (
                403,
                {"Content-Type": "application/json"},
                error_body(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"),
            )
        return self._send(start_response, status, headers, b"" if method == "HEAD" else data, data)

    @staticmethod
    def _send(
        start_response: Callable,
        status: int,
        headers: dict[str, str],
        data: bytes,
        full: bytes | None = None,
    ) -> list[bytes]:
        hop = {"content-length", "connection", "transfer-encoding", "keep-alive"}
        pairs = [(k, v) for k, v in headers.items() if k.lower() not in hop]
        pairs.append(("Content-Length", str(len(full if full is not None else data))))
        start_response(status_line(status), pairs)
        return [data]

    def _json(self, start_response: Callable, status: int, body: bytes) -> list[bytes]:
        return self._send(start_response, status, {"Content-Type": "application/json"}, body)

    def _api(
        self, method: str, path: str, environ: dict[str, Any], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.gateway is None:
            body = error_body(503, "API_UNAVAILABLE", "local/apigw.py is not available")
            return 503, {"Content-Type": "application/json"}, body
        return self.gateway(
            method, path, request_headers(environ), body or None, environ.get("REMOTE_ADDR", "")
        )

    def _auth(
        self, action: str, environ: dict[str, Any], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.auth is None:
            answer = 404, error_body(404, "NOT_FOUND", "no user pool in the templates")
        else:
            headers = {k.lower(): v for k, v in request_headers(environ)}
            result = self.auth.handle(action, headers, body, environ.get("REMOTE_ADDR", ""))
            answer = result.status, json.dumps(result.body).encode()
        return (
            answer[0],
            {"Content-Type": "application/json", "Cache-Control": "no-store"},
            answer[1],
        )

    def _outbox(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """The emails sent so far. Only this page's own requests (no CORS answer, and a foreign
        Origin refused): the emails carry working download links."""
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        origin = environ.get("HTTP_ORIGIN")
        host = environ.get("HTTP_HOST", "")
        if origin and origin not in (f"http://{host}",):
            return 403, headers, error_body(403, "FORBIDDEN", "the outbox answers its own page")
        if self.outbox is None:
            return 404, headers, error_body(404, "NOT_FOUND", "no outbox")
        return 200, headers, json.dumps({"items": self.outbox()}).encode()

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        root, name = self.web, "index.html" if path in ("/", "") else path.lstrip("/")
        if path == "/mobile" or path.startswith("/mobile/"):
            # A single-page app: its own files, else its index.html (the app routes itself).
            root, name = self.mobile, path.removeprefix("/mobile").lstrip("/")
            if not name or not (root / name).is_file():
                name = "index.html"
        target = (root / name).resolve()
        if root not in target.parents or not target.is_file():
            return (
                404,
                {"Content-Type": "application/json"},
                error_body(404, "NOT_FOUND", f"nothing at {path}"),
            )
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind, "Cache-Control": "no-cache"}, target.read_bytes()
