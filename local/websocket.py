"""API Gateway's WebSocket API, emulated on one port, as AWS serves it on one host: the sockets
clients open (`ws://host:port/{stage}?token=…`) and the management API the functions call
(`POST|GET|DELETE /{stage}/@connections/{connectionId}`, what boto3's apigatewaymanagementapi
sends to the endpoint it is given).

The handshake invokes the `$connect` route's function with API Gateway's event; an answer other
than 2xx refuses the socket with that status (a 401 stays a 401). A socket that closes invokes
`$disconnect`. Posting to a connection that is gone answers 410 GoneException, as AWS does. A
message a client sends matches no route (none but `$connect`/`$disconnect` is declared): it is
answered with API Gateway's "Forbidden" and reaches no function.

The `websockets` package speaks the protocol; an accept loop of our own peeks at each request
and hands a WebSocket upgrade to it, anything else to the management API's small HTTP handler.
"""

from __future__ import annotations

import http.server
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.sync.server import ServerConnection, serve

from local.functions import InvocationError
from local.topology import FunctionRef, WebSocketApiSpec

log = logging.getLogger("local.websocket")
MANAGEMENT = "/@connections/"
MAX_POST_BYTES = 128 * 1024  # API Gateway's limit on one message


def _request_context(api_id: str, stage: str, connection_id: str, route: str) -> dict[str, Any]:
    now = time.time()
    return {
        "routeKey": route,
        "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
        "messageDirection": "IN",
        "stage": stage,
        "connectionId": connection_id,
        "apiId": api_id,
        "requestId": str(uuid.uuid4()),
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now * 1000),
        "connectedAt": int(now * 1000),
        "domainName": "127.0.0.1",
        "identity": {"sourceIp": "127.0.0.1"},
    }


def connect_event(
    api_id: str, stage: str, connection_id: str, request: Request, source_ip: str
) -> dict[str, Any]:
    query = parse_qsl(urlsplit(request.path).query, keep_blank_values=True)
    headers = {k: v for k, v in request.headers.raw_items()}
    context = _request_context(api_id, stage, connection_id, "$connect")
    context["identity"] = {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": {k: [v for n, v in query if n == k] for k, _ in query}
        or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


class WebSocketApi:
    """One WebSocket API and its stage: `serve_on(sock)` runs it on a listening socket."""

    def __init__(
        self,
        spec: WebSocketApiSpec,
        invoke: Callable[[FunctionRef, dict[str, Any]], Any],
        api_id: str = "local",
    ):
        self.spec = spec
        self.invoke = invoke
        self.api_id = api_id
        self._connections: dict[str, ServerConnection] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.posted = 0
        self.gone = 0

    # -- the sockets --------------------------------------------------------------------------

    def _route(self, key: str) -> FunctionRef | None:
        return self.spec.routes.get(key)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if path != f"/{self.spec.stage}":
            return connection.respond(403, '{"message": "Forbidden"}\n')
        connection_id = secrets.token_urlsafe(9) + "="  # shaped like API Gateway's ids
        connection.live_id = connection_id  # type: ignore[attr-defined]
        route = self._route("$connect")
        if route is None:
            return None
        source_ip = connection.remote_address[0] if connection.remote_address else "127.0.0.1"
        event = connect_event(self.api_id, self.spec.stage, connection_id, request, source_ip)
        try:
            answer = self.invoke(route, event) or {}
        except InvocationError as err:
            log.warning("$connect failed: %s", err)
            return connection.respond(500, '{"message": "Internal server error"}\n')
        status = int(answer.get("statusCode", 200)) if isinstance(answer, dict) else 200
        if not 200 <= status < 300:
            return connection.respond(status, str(answer.get("body") or "Unauthorized") + "\n")
        # Postable from now on, as on AWS once $connect answered (the handshake's answer may
        # still be on its way: a post waits for it, below).
        with self._lock:
            self._connections[connection_id] = connection
        return None

    def _session(self, connection: ServerConnection) -> None:
        connection_id = connection.live_id  # type: ignore[attr-defined]
        try:
            for _message in connection:
                connection.send(
                    json.dumps(
                        {
                            "message": "Forbidden",
                            "connectionId": connection_id,
                            "requestId": str(uuid.uuid4()),
                        }
                    )
                )
        except Exception as err:  # a broken socket is a disconnect like any other
            log.debug("%s: %s", connection_id, err)
        finally:
            with self._lock:
                self._connections.pop(connection_id, None)
            self._disconnected(connection_id, connection.close_code or 1006)

    def _disconnected(self, connection_id: str, code: int) -> None:
        route = self._route("$disconnect")
        if route is None:
            return
        context = _request_context(self.api_id, self.spec.stage, connection_id, "$disconnect")
        context.update(disconnectStatusCode=code, disconnectReason="")
        try:
            self.invoke(route, {"headers": {}, "requestContext": context, "isBase64Encoded": False})
        except InvocationError as err:
            log.warning("$disconnect failed: %s", err)

    # -- the management API -------------------------------------------------------------------

    def manage(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        prefix = f"/{self.spec.stage}{MANAGEMENT}"
        if not path.startswith(prefix):
            return _error(404, "NotFoundException", "No such resource")
        connection_id = unquote(path[len(prefix) :])
        connection = self._open(connection_id)
        if connection is None:
            self.gone += 1
            return _error(410, "GoneException", "Gone")
        if method == "POST":
            if len(body) > MAX_POST_BYTES:
                return _error(413, "PayloadTooLargeException", "Message too large")
            try:
                connection.send(body.decode("utf-8", errors="replace"))
            except Exception:  # closed meanwhile
                self.gone += 1
                return _error(410, "GoneException", "Gone")
            self.posted += 1
            return 200, {"Content-Type": "application/json"}, b"{}"
        if method == "DELETE":
            connection.close()
            return 204, {}, b""
        if method == "GET":
            answer = {"connectedAt": "", "identity": {"sourceIp": "127.0.0.1"}, "lastActiveAt": ""}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        return _error(405, "BadRequestException", "Method not allowed")

    def _open(self, connection_id: str, wait_s: float = 2.0) -> ServerConnection | None:
        """The connection once its handshake is done; None when it is gone (or never opened)."""
        with self._lock:
            connection = self._connections.get(connection_id)
        deadline = time.monotonic() + wait_s
        while connection is not None and connection.protocol.state is State.CONNECTING:
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        if connection is None or connection.protocol.state is not State.OPEN:
            with self._lock:
                if connection is not None and connection.protocol.state is State.CLOSED:
                    self._connections.pop(connection_id, None)  # a handshake that failed
            return None
        return connection

    # -- the port -----------------------------------------------------------------------------

    def serve_on(self, listening: socket.socket) -> None:
        """Accept until `close()`; call in a thread of its own."""
        server = serve(self._session, sock=listening, process_request=self._process_request)
        self._server = server
        listening.settimeout(0.5)
        while not self._stop.is_set():
            try:
                sock, addr = listening.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            threading.Thread(
                target=self._dispatch, args=(server, sock, addr), name="ws-conn", daemon=True
            ).start()

    def _dispatch(self, server: Any, sock: socket.socket, addr: Any) -> None:
        try:
            head = sock.recv(512, socket.MSG_PEEK)
        except OSError:
            sock.close()
            return
        first_line = head.split(b"\r\n", 1)[0]
        if first_line.startswith(b"GET ") and MANAGEMENT.encode() not in first_line:
            server.handler(sock, addr)
        else:
            _ManagementHandler(sock, addr, self)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            connections = list(self._connections.values())
        for connection in connections:
            connection.close(1001)


def _error(status: int, kind: str, message: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": kind}
    return status, headers, json.dumps({"message": message}).encode()


class _ManagementHandler(http.server.BaseHTTPRequestHandler):
    """One HTTP/1.1 request of the management API on an accepted socket."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection (boto3's pool) lets its thread go

    def __init__(self, sock: socket.socket, addr: Any, api: WebSocketApi):
        self.api = api
        super().__init__(sock, addr, None)  # type: ignore[arg-type]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.api.manage(self.command, urlsplit(self.path).path, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def finish(self) -> None:
        super().finish()
        self.connection.close()
