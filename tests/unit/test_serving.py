"""The serving app over real HTTP: a subprocess on a free port, the CPU engine, real photos."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from facechain_serving.request import MAX_INLINE_BYTES

from facekit import imaging, swap_quality
from local.photos import astronaut, group_faces
from tests.prerequisites import require

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60
# As in the image: facechain_serving and style_backend side by side.
SERVER_PYTHONPATH = os.pathsep.join(
    [str(ROOT / "byoc" / "facechain"), str(ROOT / "lambda" / "shared")]
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Tripwire(BaseHTTPRequestHandler):
    """Where the server's AWS endpoint points: the container runs network-isolated on SageMaker,
    so any request arriving here is a call it could never make there. Each one is recorded."""

    requests: list[str] = []

    def do_GET(self) -> None:
        Tripwire.requests.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_PUT = do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


TRIPWIRE = ThreadingHTTPServer(("127.0.0.1", 0), Tripwire)
threading.Thread(target=TRIPWIRE.serve_forever, daemon=True).start()
TRIPWIRE_URL = f"http://127.0.0.1:{TRIPWIRE.server_address[1]}"


class Server:
    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "SWAP_ENGINE": "cpu",
            "PYTHONPATH": SERVER_PYTHONPATH,
            "AWS_ENDPOINT_URL": TRIPWIRE_URL,
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "facechain_serving", "serve", "--port", str(self.port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ping(self, until: int = 200) -> list[int]:
        """Poll /ping until it answers `until`; the statuses seen on the way."""
        seen: list[int] = []
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode())
            with contextlib.suppress(OSError):  # not listening yet
                seen.append(call(self.url + "/ping")[0])
            if seen and seen[-1] == until:
                return seen
            time.sleep(0.05)
        raise TimeoutError(f"the server never answered /ping with {until}: {seen}")

    def wait_ready(self) -> list[int]:
        return self.wait_ping(200)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()


def call(url: str, body: bytes | None = None, timeout: float = 60) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def b64(rgb: np.ndarray) -> str:
    return base64.b64encode(imaging.encode_jpeg(rgb)).decode()


def swap_body(source: np.ndarray, target: np.ndarray, **extra: object) -> bytes:
    return json.dumps(
        {"source": {"b64": b64(source)}, "target": {"b64": b64(target)}, **extra}
    ).encode()


def decode(jpeg: bytes) -> np.ndarray:
    return imaging.decode_image(jpeg, max_pixels=10**8, max_bytes=10**9).rgb


@pytest.fixture(scope="session")
def server():
    running = Server()
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def person() -> np.ndarray:
    people = group_faces()
    require(people, "the group photo (scripts/fetch_photos.py)")
    return people[0]


def error_of(status_type_body: tuple[int, str, bytes]) -> tuple[int, str]:
    status, content_type, body = status_type_body
    assert content_type == "application/json"
    error = json.loads(body)["error"]
    assert error["message"]
    return status, error["code"]


def test_ping_answers_once_the_engine_is_loaded(server):
    status, content_type, body = call(server.url + "/ping")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["engine"] == "cpu"


@pytest.mark.parametrize("direction", ["astronaut_onto_person", "person_onto_astronaut"])
def test_swap_keeps_the_source_identity_at_the_target_size(server, person, direction):
    source, target = (astronaut(), person)
    if direction == "person_onto_astronaut":
        source, target = target, source
    status, content_type, body = call(server.url + "/invocations", swap_body(source, target))
    assert (status, content_type) == (200, "image/jpeg")
    result = decode(body)
    assert result.shape == target.shape
    # SFace cosine (facekit.swap_quality): the result's face is nearer the source's.
    ours = swap_quality.read_face(result)
    to_source = swap_quality.cosine(ours, swap_quality.read_face(source))
    to_target = swap_quality.cosine(ours, swap_quality.read_face(target))
    assert to_source > to_target, (to_source, to_target)


def blank(size: int = 256) -> np.ndarray:
    """A smooth gradient: a valid picture with no face in it."""
    ramp = np.linspace(0, 255, size, dtype=np.uint8)
    return np.dstack([np.tile(ramp, (size, 1))] * 3)


def truncated_jpeg() -> str:
    return base64.b64encode(imaging.encode_jpeg(astronaut())[:2000]).decode()


BAD_REQUESTS = {
    "not_json": (b"{not json", "BAD_REQUEST"),
    "json_array": (b"[]", "BAD_REQUEST"),
    "missing_target": (json.dumps({"source": {"b64": "aGk="}}).encode(), "BAD_REQUEST"),
    "both_uri_and_b64": (
        json.dumps({"source": {"b64": "aGk=", "s3Uri": "s3://b/k"}, "target": {"b64": "aGk="}}),
        "BAD_REQUEST",
    ),
    "not_base64": (
        json.dumps({"source": {"b64": "%%%"}, "target": {"b64": "aGk="}}),
        "BAD_REQUEST",
    ),
    "s3_uri": (
        json.dumps({"source": {"s3Uri": "s3://bucket/crops/a.png"}, "target": {"b64": "aGk="}}),
        "BAD_REQUEST",
    ),
    "unknown_option": (
        json.dumps({"source": {"b64": "aGk="}, "target": {"b64": "aGk="}, "options": {"x": 1}}),
        "BAD_REQUEST",
    ),
    "not_an_image": (
        json.dumps({"source": {"b64": "aGVsbG8gd29ybGQ="}, "target": {"b64": "aGk="}}),
        "UNSUPPORTED_FORMAT",
    ),
    "truncated_jpeg": (
        lambda: json.dumps({"source": {"b64": truncated_jpeg()}, "target": {"b64": b64(blank())}}),
        "UNREADABLE_IMAGE",
    ),
    "no_face_in_target": (lambda: swap_body(astronaut(), blank()), "NO_FACE"),
    "no_face_in_source": (lambda: swap_body(blank(), astronaut()), "NO_FACE"),
    "inline_image_too_large": (
        lambda: json.dumps(
            {"source": {"b64": "A" * (MAX_INLINE_BYTES * 4 // 3 + 8)}, "target": {"b64": "aGk="}}
        ),
        "FILE_TOO_LARGE",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_requests_get_400_with_their_code(server, case):
    body, code = BAD_REQUESTS[case]
    body = body() if callable(body) else body
    body = body.encode() if isinstance(body, str) else body
    assert error_of(call(server.url + "/invocations", body)) == (400, code)


def test_body_over_the_limit_is_refused(server):
    from facechain_serving.request import MAX_BODY_BYTES

    body = b" " * (MAX_BODY_BYTES + 1)
    assert error_of(call(server.url + "/invocations", body)) == (400, "FILE_TOO_LARGE")


def test_empty_body_is_a_bad_request(server):
    assert error_of(call(server.url + "/invocations", b"")) == (400, "BAD_REQUEST")


def test_an_s3_uri_is_refused_without_a_lookup_and_without_echoing_it(server):
    """The isolated container cannot fetch; the answer names neither the URI nor the bucket."""
    body = json.dumps({"source": {"b64": "aGk="}, "target": {"s3Uri": "s3://bucket/base/x.jpg"}})
    _, _, answer = call(server.url + "/invocations", body.encode())
    message = json.loads(answer)["error"]["message"]
    assert "b64" in message
    for internal in ("s3://", "bucket", "x.jpg"):
        assert internal not in message, message


def test_the_container_calls_no_aws_at_all(server, person):
    """A whole swap, a refused s3Uri and a bad request: nothing reached the AWS endpoint."""
    Tripwire.requests.clear()
    status, _, _ = call(server.url + "/invocations", swap_body(person, astronaut()))
    assert status == 200
    refused = json.dumps({"source": {"s3Uri": "s3://b/k"}, "target": {"s3Uri": "s3://b/c"}})
    assert error_of(call(server.url + "/invocations", refused.encode())) == (400, "BAD_REQUEST")
    assert Tripwire.requests == []


def test_listens_on_the_loopback_address_only(server):
    """Outside the image (SERVING_HOST unset) nothing but 127.0.0.1 reaches the port: another
    loopback address would, were it bound to 0.0.0.0."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.2", server.port), timeout=5),
    ):
        pass


def test_serving_host_is_the_image_s_choice_else_loopback(monkeypatch):
    from facechain_serving.server import serving_host

    monkeypatch.delenv("SERVING_HOST", raising=False)
    assert serving_host() == "127.0.0.1"
    monkeypatch.setenv("SERVING_HOST", "0.0.0.0")
    assert serving_host() == "0.0.0.0"


def test_unknown_path_is_404(server):
    assert error_of(call(server.url + "/nope")) == (404, "NOT_FOUND")


def test_concurrent_requests_all_answer(server, person):
    body = swap_body(astronaut(), person)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: call(server.url + "/invocations", body), range(8)))
    assert [status for status, _, _ in answers] == [200] * 8
    # One engine behind a lock: every answer is the same complete image.
    assert len({body for _, _, body in answers}) == 1


def upscaled(rgb: np.ndarray, side: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.BICUBIC))


def test_engine_that_fails_to_load_makes_ping_500():
    # The facechain engine without modelscope installed: its load() raises.
    server = Server(SWAP_ENGINE="facechain")
    try:
        assert server.wait_ping(500)[-1] == 500
        body = swap_body(astronaut(), astronaut())
        assert error_of(call(server.url + "/invocations", body)) == (503, "NOT_READY")
    finally:
        server.stop()


def test_unknown_engine_exits_with_an_error():
    result = subprocess.run(
        [sys.executable, "-m", "facechain_serving", "serve", "--port", str(free_port())],
        env={**os.environ, "SWAP_ENGINE": "nope", "PYTHONPATH": SERVER_PYTHONPATH},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0 and b"SWAP_ENGINE" in result.stderr


def test_sigterm_answers_the_request_in_flight_then_exits_0(person):
    server = Server()
    try:
        # While the engine loads the port answers 503 (how many polls see it depends on the load's
        # speed on this machine: none at all when it is quick).
        assert set(server.wait_ready()) <= {503, 200}
        answer: list = []
        body = swap_body(astronaut(), upscaled(person, 1024))
        caller = threading.Thread(
            target=lambda: answer.append(call(server.url + "/invocations", body))
        )
        caller.start()
        time.sleep(0.3)  # the swap of a 1024² target takes longer than this
        server.process.send_signal(signal.SIGTERM)
        caller.join(60)
        assert server.process.wait(30) == 0
        assert answer and answer[0][0] == 200
        with pytest.raises(OSError):  # no longer accepting
            call(server.url + "/ping", timeout=2)
    finally:
        server.stop()
