"""Run code in a fresh interpreter, to see what importing something really loads (a cold start,
a layer on its own, an image without boto3): nothing this test process imported carries over."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping


def blocking(*modules: str) -> str:
    """Code that makes importing any of `modules` fail (as if not installed)."""
    return f"import sys\nfor m in {modules!r}: sys.modules[m] = None\n"


def importing(modules: Iterable[str]) -> str:
    return "".join(f"import {m}\n" for m in modules)


def assert_runs(
    code: str,
    path: Iterable[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> None:
    """`code` exits 0 with PYTHONPATH `path`, in `env` (this process's environment by default);
    on failure the assertion shows the end of its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**(os.environ if env is None else env), "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-2000:]
