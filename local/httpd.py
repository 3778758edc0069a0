"""The local runtime's HTTP listeners, served by waitress (the model container's server too).

Why waitress rather than `http.server`: its socket loop accepts every connection (backlog 2048, not
socketserver's 5) and reads whole requests before a worker thread sees them, so 200 clients at
once queue instead of being reset, and a slow or lying client (a `Content-Length` it never sends)
holds no thread: its connection is closed after `IDLE_TIMEOUT_S`.

What this module adds to waitress, for every listener:
- errors waitress answers itself (a bad `Content-Length`, a body over the limit) in the
  listener's own error shape (the API's JSON, S3's XML) instead of waitress's plain text;
- the connection closes after every 4xx/5xx answer, so nothing a client sent after a refused
  request is read as its next request;
- `close()` that stops the loop from outside its thread and frees the port.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask

log = logging.getLogger("local.httpd")

# (status, waitress's reason) → (content type, body) in the listener's error shape.
ErrorRenderer = Callable[[int, str], tuple[str, bytes]]
WsgiApp = Callable[..., object]

IDLE_TIMEOUT_S = 10  # a connection that sends nothing for this long is closed
BACKLOG = 2048  # connections the kernel queues while every accepted one is busy
CONNECTION_LIMIT = 512  # accepted connections at once; more wait in the backlog, never reset


class PortBusy(OSError):
    pass


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def status_line(status: int) -> str:
    return f"{status} {reason(status)}"


def request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request's headers as (name, value) pairs; WSGI keeps no original casing, so names come
    back in the usual Title-Case (`Content-Type`, `Authorization`)."""
    pairs = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        pairs.append(("-".join(p.capitalize() for p in name.split("_")), value))
    return pairs


def lower_headers(environ: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in request_headers(environ)}


def _task_classes(render: ErrorRenderer) -> type[HTTPChannel]:
    class ClosingTask(WSGITask):
        def build_response_header(self) -> bytes:
            if self.status[:1] in ("4", "5"):
                self.set_close_on_finish()  # adds Connection: close before the headers go out
            return super().build_response_header()

    class RenderedErrorTask(ErrorTask):
        def execute(self) -> None:
            error = self.request.error
            content_type, body = render(error.code, str(error.body))
            self.status = status_line(error.code)
            self.response_headers.append(("Content-Type", content_type))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class Channel(HTTPChannel):
        task_class = ClosingTask
        error_task_class = RenderedErrorTask

    return Channel


def _busy(host: str, port: int, err: OSError) -> PortBusy:
    return PortBusy(
        err.errno,
        f"port {port} on {host} is in use: stop what holds it or choose another port "
        f"(PORT=8001 make up)",
    )


def check_port(host: str, port: int) -> None:
    """Raise PortBusy now if the port cannot be bound (the listener binds it again later)."""
    with socket.socket() as s:
        # As the listener will: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise _busy(host, port, err) from err
            raise


def _not_started(_environ: dict, start_response: Callable[..., object]) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Length", "0")])
    return []


@dataclass
class Listener:
    """One waitress server on its own loop thread. `bind` first (the port is then known, so an
    app can be built that names its own URL), then `start(app)`."""

    server: TcpWSGIServer
    name: str
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def bind(
        cls,
        host: str,
        port: int,
        render_error: ErrorRenderer,
        name: str = "http",
        threads: int = 32,
        max_body_bytes: int = 2 * 1024 * 1024,
    ) -> Listener:
        channel = _task_classes(render_error)
        server_class = type("LocalServer", (TcpWSGIServer,), {"channel_class": channel})
        adj = Adjustments(
            host=host,
            port=port,
            threads=threads,
            backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=IDLE_TIMEOUT_S,
            cleanup_interval=2,
            max_request_body_size=max_body_bytes,
            ident="",  # no Server header naming the software
            expose_tracebacks=False,
        )
        try:
            server = server_class(_not_started, adj=adj)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise _busy(host, port, err) from err
            raise
        return cls(server, name)

    @property
    def host(self) -> str:
        return self.server.effective_host

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    @property
    def server_address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, app: WsgiApp) -> Listener:
        self.server.application = app
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        # waitress's own run() loops until its map empties; polling in short slices lets close()
        # stop it from another thread without touching sockets the loop is selecting on.
        while not self._stop.is_set():
            wasyncore.loop(timeout=0.2, map=self.server._map, use_poll=True, count=1)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for channel in list(self.server._map.values()):
            if channel is not self.server and channel is not self.server.trigger:
                channel.close()
        self.server.close()
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
