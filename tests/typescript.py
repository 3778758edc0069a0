"""The typed TypeScript client (clients/typescript) as the tests reach it: Node, the npm tools
`make` installs, and the page's bundle `make` builds from it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.prerequisites import require

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "clients" / "typescript"
BIN = ROOT / "node_modules" / ".bin"
WEB_BUNDLE = ROOT / "local" / "web" / "client.js"


def node() -> str:
    path = shutil.which("node")
    require(path, "node (Node.js 18+)")
    return path


def npm_tool(name: str) -> str:
    require((BIN / name).exists(), f"node_modules/.bin/{name} (npm ci, which `make` runs)")
    return str(BIN / name)


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180)


def built_web_bundle() -> Path:
    """local/web/client.js, built by `make` and newer than every source it is built from: a page
    served with a missing or older bundle would not be the client under test."""
    sources = list((CLIENT / "src").glob("*.ts"))
    if not WEB_BUNDLE.is_file() or WEB_BUNDLE.stat().st_mtime < max(
        s.stat().st_mtime for s in sources
    ):
        pytest.fail(
            f"{WEB_BUNDLE.relative_to(ROOT)} is missing or stale: run `make test` (or "
            f"`make {WEB_BUNDLE.relative_to(ROOT)}`) to build it"
        )
    return WEB_BUNDLE
