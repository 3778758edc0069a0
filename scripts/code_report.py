"""The code's shape in figures: long functions, complex functions, imports across the products.

    python scripts/code_report.py [ROOT]    # ROOT: a checkout (default: this one)

Prints functions over 60 and over 80 lines in lambda/, stacks/, local/, byoc/; functions of
mccabe complexity over 15 (ruff's C901); imports from one product (style_backend, faceflow) into
the other, counted by module. Duplicated code: `duplicates` (the tool library) on the same roots.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOTS = ("lambda", "stacks", "local", "byoc")
PRODUCTS = ("style_backend", "faceflow")


def _python_files(root: Path) -> list[Path]:
    return [
        p
        for name in ROOTS
        for p in sorted((root / name).rglob("*.py"))
        if not {"node_modules", "__pycache__"} & set(p.parts)
    ]


def function_lengths(root: Path) -> list[tuple[int, str]]:
    found = []
    for path in _python_files(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(root)}:{node.lineno} {node.name}"
                found.append((node.end_lineno - node.lineno + 1, where))
    return sorted(found, reverse=True)


def complex_functions(root: Path, limit: int = 15) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--isolated",
        "--select",
        "C901",
        "--config",
        f"lint.mccabe.max-complexity={limit}",
        "--output-format",
        "concise",
        *ROOTS,
    ]
    out = subprocess.run(command, cwd=root, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "C901" in line]


def cross_product_imports(root: Path) -> list[str]:
    found = []
    for product in PRODUCTS:
        other = next(p for p in PRODUCTS if p != product)
        for path in sorted((root / "lambda" / "shared" / product).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(n == other or n.startswith(other + ".") for n in names):
                    found.append(f"{path.relative_to(root)}:{node.lineno} → {other}")
    return found


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1]).resolve()
    lengths = function_lengths(root)
    print(f"functions: {len(lengths)}")
    for limit in (60, 80):
        over = [f"  {n:4d} {w}" for n, w in lengths if n > limit]
        print(f"over {limit} lines: {len(over)}", *over, sep="\n")
    complex_ = complex_functions(root)
    print(f"complexity over 15: {len(complex_)}", *[f"  {c}" for c in complex_], sep="\n")
    cross = cross_product_imports(root)
    print(f"imports across the products: {len(cross)}", *[f"  {c}" for c in cross], sep="\n")


if __name__ == "__main__":
    main()
