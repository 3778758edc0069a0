"""A small HTTP front for moto's Step Functions interpreter: Lambda `Invoke` calls go to the local
function workers, every other request goes to moto unchanged.

moto 5's ASL interpreter calls services with boto3 at http://localhost:<moto_server_port()>
(moto/stepfunctions/parser/asl/utils/boto_client.py); pointing that port here
(local.pipelines.route_tasks_through) makes a
`lambda:invoke` task arrive as `POST /2015-03-31/functions/{name-or-arn}/invocations`, answered as
Lambda answers: the handler's result, or `X-Amz-Function-Error: Unhandled` with its error.

Entry point: `serve_lambda_front(invoke, moto_url)`.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from local.functions import InvocationError

log = logging.getLogger("local.lambda_front")
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations$")
# Hop-by-hop headers are the front's own business, never forwarded.
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

Invoke = Callable[[str, Any], Any]  # (function name or ARN, event) → result


class LambdaFront(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], invoke: Invoke, moto_url: str):
        super().__init__(address, _Handler)
        self.invoke = invoke
        parts = urlsplit(moto_url)
        self.moto = (parts.hostname or "127.0.0.1", parts.port or 80)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: LambdaFront
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:  # requests are logged by moto and the workers
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        match = _INVOKE.match(urlsplit(self.path).path)
        if match is None:
            self._forward()
            return
        function = unquote(match["function"])
        body = self._body()
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            self._send(400, b'{"Type":"User","message":"payload is not JSON"}', {})
            return
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        try:
            result = self.server.invoke(function, event)
        except LookupError:
            message = json.dumps({"Type": "User", "message": f"Function not found: {function}"})
            self._send(404, message.encode(), {"x-amzn-ErrorType": "ResourceNotFoundException"})
            return
        except InvocationError as err:
            log.warning("%s failed: %s\n%s", function, err, err.trace)
            error = {"errorType": err.kind, "errorMessage": str(err).split(": ", 2)[-1]}
            headers["X-Amz-Function-Error"] = "Unhandled"
            self._send(200, json.dumps(error).encode(), headers)
            return
        self._send(200, json.dumps(result).encode(), headers)

    def _forward(self) -> None:
        body = self._body()
        connection = http.client.HTTPConnection(*self.server.moto, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            answer = {k: v for k, v in response.getheaders() if k.lower() not in _HOP}
            self._send(response.status, data, answer)
        finally:
            connection.close()

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


def serve_lambda_front(invoke: Invoke, moto_url: str, host: str = "127.0.0.1") -> LambdaFront:
    """Start the front on a free port (a daemon thread); `shutdown()` stops it."""
    front = LambdaFront((host, 0), invoke, moto_url)
    threading.Thread(target=front.serve_forever, name="lambda-front", daemon=True).start()
    return front
