"""Run Lambda handlers locally: each function in its own worker processes, as Lambda isolates them.

A worker gets the function's environment from the template (plus the local endpoints) and its code
folders (asset, then layers) on sys.path, imports the handler module once and serves invocations.
Concurrency per function is bounded like Lambda's reserved concurrency.

A worker that dies (a crash, or `kill_worker()`, the fault the end-to-end tests inject) fails the
invocations its pool was running, as a crashed execution environment does; their triggers retry
them, and the next invocation starts fresh workers (a cold start).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.topology import FunctionRef, FunctionSpec

# Folders that exist only inside the Lambda image or its layers (/opt/…): locally the same
# packages come from the virtual environment, so a variable pointing there is left unset.
_LAMBDA_ONLY_PREFIXES = ("/opt/",)


class InvocationError(RuntimeError):
    """The handler raised (or timed out): the caller decides whether the event is retried."""

    def __init__(self, function: str, kind: str, message: str, trace: str = ""):
        super().__init__(f"{function}: {kind}: {message}")
        self.kind = kind
        self.trace = trace


@dataclass
class _Context:
    """The parts of Lambda's context object handlers use."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int
    deadline_ms: int
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


_handler: Any = None
_function_name = ""


def _init_worker(env: dict[str, str], code_dirs: list[str], handler: str, name: str) -> None:
    global _handler, _function_name
    os.environ.clear()
    os.environ.update(env)
    for folder in reversed(code_dirs):
        sys.path.insert(0, folder)
    module_name, func_name = handler.rsplit(".", 1)
    _handler = getattr(importlib.import_module(module_name), func_name)
    _function_name = name


def _invoke(event: Any, timeout_s: int) -> tuple[str, Any]:
    context = _Context(
        function_name=_function_name,
        aws_request_id=str(uuid.uuid4()),
        memory_limit_in_mb=1024,
        deadline_ms=int(time.time() * 1000) + timeout_s * 1000,
    )
    try:
        return "ok", _handler(event, context)
    except Exception as err:  # report to the parent: exception objects may not pickle
        return "error", (type(err).__name__, str(err), traceback.format_exc())


def _ready() -> bool:
    return _handler is not None


def function_environment(spec: FunctionSpec, local_env: dict[str, str]) -> dict[str, str]:
    """The process environment of a function: template variables + local endpoints."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("PYTHONPATH",)
    }
    declared = {
        k: v for k, v in spec.environment.items() if not v.startswith(_LAMBDA_ONLY_PREFIXES)
    }
    return {
        **base,
        **declared,
        **local_env,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }


class FunctionHost:
    """Worker processes of one function; started on first use (a cold start)."""

    def __init__(self, spec: FunctionSpec, local_env: dict[str, str], concurrency: int):
        self.spec = spec
        self.concurrency = concurrency
        self._env = function_environment(spec, local_env)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # one pool at a time, whichever thread starts it
        self.in_flight = 0  # invocations submitted and not yet answered
        self.invocations = 0  # every one submitted (benchmarks/bench_albums.py)

    @property
    def ref(self) -> FunctionRef:
        return self.spec.ref

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.concurrency,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(
                        self._env,
                        [str(Path(d)) for d in self.spec.code_dirs],
                        self.spec.handler,
                        self.spec.name,
                    ),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool, unless another invocation already replaced it."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def invoke(self, event: Any) -> Any:
        pool = self._executor()
        with self._lock:
            self.in_flight += 1
            self.invocations += 1
        try:
            # A pool whose worker died is broken: submit raises too, as a failed invocation.
            future = pool.submit(_invoke, event, self.spec.timeout_s)
            # Cold starts (spawn + imports) are not the handler's time: allow some more.
            status, value = future.result(timeout=self.spec.timeout_s + 30)
        except FutureTimeout:
            raise InvocationError(self.spec.name, "Timeout", f"> {self.spec.timeout_s}s") from None
        except Exception as err:  # the worker died (import error, crash): a failed invocation
            if isinstance(err, BrokenProcessPool):
                self._discard(pool)  # the next invocation starts fresh workers (a cold start)
            raise InvocationError(self.spec.name, type(err).__name__, str(err)) from err
        finally:
            with self._lock:
                self.in_flight -= 1
        if status == "error":
            kind, message, trace = value
            raise InvocationError(self.spec.name, kind, message, trace)
        return value

    def warm(self) -> None:
        """Start a worker and import the handler (Lambda's init phase) before the first event."""
        pool = self._executor()
        try:
            pool.submit(_ready).result(timeout=120)
        except Exception:  # the first real invocation reports the problem with its event
            self._discard(pool)

    def worker_pids(self) -> list[int]:
        with self._lock:
            pool = self._pool
        # ProcessPoolExecutor names its live workers only in this private mapping.
        return sorted(getattr(pool, "_processes", None) or {}) if pool else []

    def kill_worker(self) -> int:
        """Fault injection: one worker process dies now (SIGKILL), mid-invocation or idle, as an
        execution environment that crashes. Returns its pid."""
        pids = self.worker_pids()
        if not pids:
            raise RuntimeError(f"{self.spec.name}: no worker is running")
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
