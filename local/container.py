"""The FaceChain model container's serving app, run as a local process (CPU swap engine).

It is the same `facechain_serving` package the image runs (`serve --port N`), started with the
model's environment from the template, pointed at the local AWS. SageMaker's contract: GET /ping
answers 200 when ready, POST /invocations serves a request.

Like SageMaker, which replaces an instance whose container died, the runtime starts the serving
app again on the same port when it exits while the runtime runs (a crash, or `kill()`, the fault
the end-to-end tests inject); invocations wait for it to be ready again (`wait_ready`).
"""

from __future__ import annotations

import importlib.util
import logging
import socket
import subprocess
import sys
import threading
import time
import urllib.request

log = logging.getLogger("local.container")

READY_TIMEOUT_S = 120  # model warm-up (face models load at start)
RESTART_BACKOFF_S = 5.0  # after a start that failed, before the next one


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ModelContainer:
    def __init__(self, env: dict[str, str], host: str = "127.0.0.1"):
        self.env = env
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.problem = ""
        self.restarts = 0  # starts after the first: each one replaced a dead container
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        paths = self.env.get("PYTHONPATH", "").split(":")
        sys_path = list(sys.path)
        try:
            sys.path[:0] = paths
            found = importlib.util.find_spec("facechain_serving") is not None
        finally:
            sys.path[:] = sys_path
        if not found:
            self.problem = "facechain_serving is not in byoc/facechain: inference will fail"
            return
        if not self._launch():
            return  # never healthy: nothing to keep alive (start-up warns, inferences fail)
        self._watcher = threading.Thread(target=self._watch, name="model-container", daemon=True)
        self._watcher.start()

    def _launch(self) -> bool:
        """Start the serving app and wait for its /ping; False (and `problem` says why) if it
        exited or never answered."""
        self.process = process = subprocess.Popen(
            [sys.executable, "-m", "facechain_serving", "serve", "--port", str(self.port)],
            env=self.env,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self._stopping.is_set():
            if process.poll() is not None:
                self.problem = f"the serving app exited with {process.returncode}"
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        self.problem = ""
                        self._ready.set()
                        return True
            except OSError:
                time.sleep(0.3)
        self.problem = f"the serving app did not answer /ping within {READY_TIMEOUT_S}s"
        return False

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            process = self.process
            if process is None or process.poll() is None:
                continue
            self._ready.clear()
            if self._stopping.is_set():
                return
            log.warning("model container exited with %s: starting it again", process.returncode)
            self.restarts += 1
            if not self._launch():
                log.error("model container did not start again: %s", self.problem)
                self._stopping.wait(RESTART_BACKOFF_S)

    def wait_ready(self, timeout: float) -> bool:
        """Whether the serving app answers /ping, waiting up to `timeout` while it (re)starts.
        False at once when it never started."""
        if self._watcher is None:
            return False
        return self._ready.wait(timeout)

    def kill(self) -> None:
        """Fault injection: the container crashes now (SIGKILL, whatever it was serving). The
        runtime starts it again, as SageMaker replaces a failed instance."""
        process = self.process
        if process is None:
            raise RuntimeError("no model container is running")
        self._ready.clear()
        process.kill()
        process.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=READY_TIMEOUT_S)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
