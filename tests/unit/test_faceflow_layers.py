"""FaceFlow's three layers keep their import rules (lambda/shared/faceflow/__init__.py), and every
table and object key is spelled in storage/keys.py alone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

FACEFLOW = Path(__file__).resolve().parents[2] / "lambda" / "shared" / "faceflow"
HANDLERS = [FACEFLOW.parents[1] / "albums", FACEFLOW.parents[1] / "sharing"]
# What the domain never imports (a prefix matches the module and its submodules).
NOT_IN_DOMAIN = (
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "requests",
    "urllib.request",
    "http.client",
    "common.aws",
    "common.api",
    "common.observability",
    "common.config",
    "common.pagination",
    "common.erasure",
    "faceflow.storage",
    "faceflow.edge",
    "faceflow.config",
    "style_backend",
)
MAX_FUNCTION_LINES = 80


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in prefixes)


def test_the_domain_is_pure():
    for path in sorted((FACEFLOW / "domain").rglob("*.py")):
        bad = {n for n in _imports(path) if _under(n, NOT_IN_DOMAIN)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_storage_never_imports_the_edge():
    for path in sorted((FACEFLOW / "storage").rglob("*.py")):
        bad = {n for n in _imports(path) if _under(n, ("faceflow.edge", "style_backend"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_every_key_is_spelled_in_keys_alone():
    spelled = re.compile(r'"(ALBUM|USER|PHOTO|JOB|FACE|SHARE|SHARERATE|SHA256|STATUS|JOBSTATUS)#')
    for path in sorted(FACEFLOW.rglob("*.py")):
        if path.name == "keys.py" or "__pycache__" in path.parts:
            continue
        lines = [
            n for n, line in enumerate(path.read_text().splitlines(), 1) if spelled.search(line)
        ]
        assert not lines, f"{path.relative_to(FACEFLOW)}: lines {lines}"


def test_no_function_is_longer_than_80_lines():
    long = []
    for root in (FACEFLOW, *HANDLERS):
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.name}:{node.name} ({lines})")
    assert long == []
