"""Set-up prerequisites (Debian's chromium, the fetched group photo). Missing on a developer's
machine: the test skips and says which set-up step provides it. Missing in CI (CI=true): the test
fails, so a broken set-up can never turn the suite green by skipping."""

from __future__ import annotations

import os

import pytest


def require(available: object, what: str) -> None:
    if available:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI set-up is missing {what}")
    pytest.skip(f"missing {what}")
