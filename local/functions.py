"""Run Lambda handlers locally: each function in its own worker processes, as Lambda isolates them.

A worker gets the function's environment from the template (plus the local endpoints) and its code
folders (asset, then layers) on sys.path, imports the handler module once and serves invocations.
Concurrency per function is bounded like Lambda's reserved concurrency.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
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

    @property
    def ref(self) -> FunctionRef:
        return self.spec.ref

    def _executor(self) -> ProcessPoolExecutor:
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

    def invoke(self, event: Any) -> Any:
        future = self._executor().submit(_invoke, event, self.spec.timeout_s)
        try:
            # Cold starts (spawn + imports) are not the handler's time: allow some more.
            status, value = future.result(timeout=self.spec.timeout_s + 30)
        except FutureTimeout:
            raise InvocationError(self.spec.name, "Timeout", f"> {self.spec.timeout_s}s") from None
        except Exception as err:  # the worker died (import error, crash): a failed invocation
            if isinstance(err, BrokenProcessPool):
                self._pool = None  # the next invocation starts fresh workers (a new cold start)
            raise InvocationError(self.spec.name, type(err).__name__, str(err)) from err
        if status == "error":
            kind, message, trace = value
            raise InvocationError(self.spec.name, kind, message, trace)
        return value

    def warm(self) -> None:
        """Start a worker and import the handler (Lambda's init phase) before the first event."""
        try:
            self._executor().submit(_ready).result(timeout=120)
        except Exception:  # the first real invocation reports the problem with its event
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
