"""SageMaker's serving contract over a swap engine, served by waitress.

GET /ping is 200 only once the engine is loaded (it loads in a background thread, so the port
answers at once and SageMaker's health check sees 503 until then). POST /invocations turns the
request JSON into a JPEG body, which async inference writes to S3 as the result. SIGTERM stops
accepting, lets in-flight requests answer, and exits 0.

It has no authentication of its own (SageMaker's InvokeEndpoint is the door), so it listens on
127.0.0.1 unless told otherwise: the image sets `SERVING_HOST=0.0.0.0`, the address SageMaker
reaches it on (port 8080). Error answers name the reason code, never an internal detail (S3 URIs,
botocore's text, tracebacks): those go to the log.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable

from waitress import create_server, wasyncore

from facechain_serving.engines import Engine
from facechain_serving.errors import BadRequest, NotReady, ServingError, SwapFailed
from facechain_serving.request import MAX_BODY_BYTES, decode_rgb, parse_request
from facekit import imaging

log = logging.getLogger("facechain_serving")

DEFAULT_PORT = 8080
# The image sets SERVING_HOST=0.0.0.0 (SageMaker connects from outside the container); anything
# else (the local runtime, tests) keeps the unauthenticated port on the loopback interface.
HOST_VARIABLE = "SERVING_HOST"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_THREADS = 8
DRAIN_TIMEOUT_S = 120.0

StartResponse = Callable[..., object]


class ServingApp:
    """The WSGI app. Engines need not be thread-safe: one swap at a time, under a lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._loaded = threading.Event()
        self._load_error: BaseException | None = None
        self._swap_lock = threading.Lock()
        self._draining = False
        self._in_flight = 0
        self._idle = threading.Condition()

    # Loading ---------------------------------------------------------------------------------
    def start_loading(self) -> threading.Thread:
        thread = threading.Thread(target=self._load, name="engine-load", daemon=True)
        thread.start()
        return thread

    def _load(self) -> None:
        started = time.monotonic()
        try:
            self.engine.load()
        except BaseException as err:  # /ping reports it; SageMaker then replaces the instance
            self._load_error = err
            log.exception("engine %s failed to load", self.engine.name)
            return
        log.info("engine %s loaded in %.1fs", self.engine.name, time.monotonic() - started)
        self._loaded.set()

    # Draining --------------------------------------------------------------------------------
    @property
    def draining(self) -> bool:
        return self._draining

    def begin_drain(self) -> None:
        self._draining = True

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/ping" and method in ("GET", "HEAD"):
            return self._ping(start_response)
        if path == "/invocations" and method == "POST":
            return self._invocations(environ, start_response)
        return _json(start_response, 404, {"error": {"code": "NOT_FOUND", "message": path}})

    def _ping(self, start_response: StartResponse) -> Iterable[bytes]:
        if self._load_error is not None:  # the reason is in the log
            return _json(start_response, 500, {"status": "failed", "message": "engine failed"})
        if self._draining or not self._loaded.is_set():
            return _json(
                start_response, 503, {"status": "loading" if not self._draining else "draining"}
            )
        return _json(start_response, 200, {"status": "ok", "engine": self.engine.name})

    def _invocations(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        with self._idle:
            self._in_flight += 1
        try:
            if self._draining:
                raise NotReady("the server is shutting down")
            if not self._loaded.is_set():
                raise NotReady("the engine is still loading")
            jpeg = self._swap(read_body(environ))
        except ServingError as err:
            if err.status >= 500:
                log.error("invocation failed: %s %s", err.code, err.message)
            return _json(start_response, err.status, err.body())
        except Exception:  # engine bugs: a 500 the caller may retry; details logged
            log.exception("invocation failed")
            return _json(start_response, 500, SwapFailed("the swap failed").body())
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
        start_response(
            "200 OK", [("Content-Type", "image/jpeg"), ("Content-Length", str(len(jpeg)))]
        )
        return [jpeg]

    def _swap(self, body: bytes) -> bytes:
        request = parse_request(body)
        source = decode_rgb(request.source.inline, "source")
        target = decode_rgb(request.target.inline, "target")
        with self._swap_lock:
            result = self.engine.swap(source, target, request.options)
        if result.shape != target.shape:
            raise SwapFailed(f"engine returned {result.shape}, expected {target.shape}")
        return imaging.encode_jpeg(result, request.options.jpeg_quality)


def read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("Content-Length is not a number") from None
    if length <= 0:
        raise BadRequest("the request body is empty: send the request JSON")
    if length > MAX_BODY_BYTES:
        raise BadRequest(
            f"the request body is {length} bytes, over {MAX_BODY_BYTES}",
            code="FILE_TOO_LARGE",
        )
    return environ["wsgi.input"].read(length)


def _json(start_response: StartResponse, status: int, doc: dict) -> list[bytes]:
    body = json.dumps(doc).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
    start_response(
        f"{status} {reason.get(status, 'Service Unavailable')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def serving_host() -> str:
    return os.environ.get(HOST_VARIABLE) or DEFAULT_HOST


def serve(
    engine: Engine,
    port: int = DEFAULT_PORT,
    threads: int = DEFAULT_THREADS,
    host: str | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status (0 after a clean drain)."""
    host = host or serving_host()
    app = ServingApp(engine)
    app.start_loading()
    # waitress buffers a body before the app sees it: up to twice our limit it does, so the app
    # answers 400 FILE_TOO_LARGE in JSON; beyond that waitress itself answers 413 unread.
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=2 * MAX_BODY_BYTES,
        channel_timeout=60,  # a client that stops sending mid-request is dropped, not waited on
        ident="",
    )
    drained = threading.Event()

    def finish() -> None:
        idle = app.wait_idle(DRAIN_TIMEOUT_S)
        # Replies are written by the loop thread: wait until every channel has flushed.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            getattr(ch, "total_outbufs_len", 0) or getattr(ch, "requests", None)
            for ch in list(server._map.values())
        ):
            time.sleep(0.05)
        if idle:
            drained.set()
        server.trigger.pull_trigger(server._map.clear)  # the loop ends when its map is empty

    def on_signal(signum: int, _frame: object) -> None:
        if app.draining:
            return
        log.info("signal %d: draining", signum)
        app.begin_drain()
        # The handler interrupts the loop's select(): closing a socket here would hand select a
        # dead fd. A thread asks the loop (via its trigger) to stop accepting, then drains.
        threading.Thread(target=drain, name="drain", daemon=True).start()

    def drain() -> None:
        # Stop accepting, but keep the trigger that wakes the loop to send in-flight replies.
        server.trigger.pull_trigger(lambda: wasyncore.dispatcher.close(server))
        finish()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("serving on %s:%d with engine %s", host, port, engine.name)
    server.run()
    server.task_dispatcher.shutdown()
    log.info("stopped")
    return 0 if drained.is_set() else 1
