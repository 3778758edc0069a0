"""The local AWS: moto's server app (S3, DynamoDB, Cognito, SNS, SQS, Step Functions) on a port of
the runtime's, with one fault the end-to-end tests inject: `refuse(seconds)`, an outage.

moto keeps its state in its backends, in this process, not in the server: the port can close and
open again and every table, object, queue and user is still there.

moto's DynamoDB is not thread-safe (a Query iterates a table's items while a concurrent PutItem
adds to them: "dictionary changed size during iteration", a 500), so its requests are served one
at a time; the other services stay concurrent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

_OUTAGE_BODY = (
    b"<Error><Code>ServiceUnavailable</Code>"
    b"<Message>The local AWS is refusing requests (fault injection).</Message></Error>"
)


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.host = host
        self.port = port
        self._app = DomainDispatcherApplication(create_backend_app)
        self._refusing = threading.Event()
        self._dynamodb = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.outages = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self._gate, threaded=True)
        self.port = self._server.server_port  # port 0: the one the system chose, kept on restart
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def _gate(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self._refusing.is_set():  # accepted just before the port closed
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(_OUTAGE_BODY)))],
            )
            return [_OUTAGE_BODY]
        # DynamoDB and DynamoDB Streams (`X-Amz-Target: DynamoDB_20120810.Query`, …).
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with self._dynamodb:
                return _read_whole(self._app(environ, start_response))
        return self._app(environ, start_response)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # the port is closed: connecting is refused
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def refuse(self, seconds: float) -> None:
        """Fault injection: the local AWS is down for `seconds` (this call blocks meanwhile).
        Connections are refused (werkzeug closes each after its answer: every call connects
        anew); a request accepted as the port closes gets 503 ServiceUnavailable. Then it answers
        again on the same port, its state intact."""
        self._refusing.set()
        self.outages += 1
        self.stop()
        try:
            time.sleep(seconds)
        finally:
            self.start()
            self._refusing.clear()


def _read_whole(answer: Iterable[bytes]) -> list[bytes]:
    """The whole body, read (and the iterable closed, as WSGI asks) under the caller's lock."""
    try:
        return [b"".join(answer)]
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
