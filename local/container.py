"""The FaceChain model container's serving app, run as a local process (CPU swap engine).

It is the same `facechain_serving` package the image runs (`serve --port N`), started with the
model's environment from the template, pointed at the local AWS. SageMaker's contract: GET /ping
answers 200 when ready, POST /invocations serves a request.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request

READY_TIMEOUT_S = 120  # model warm-up (face models load at start)


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
        self.process = subprocess.Popen(
            [sys.executable, "-m", "facechain_serving", "serve", "--port", str(self.port)],
            env=self.env,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.problem = f"the serving app exited with {self.process.returncode}"
                return
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.problem = f"the serving app did not answer /ping within {READY_TIMEOUT_S}s"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
