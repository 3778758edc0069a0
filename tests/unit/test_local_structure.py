"""The local runtime's shape: no import cycles among local/'s modules (imports inside functions
and under TYPE_CHECKING count: they are cycles a reader follows all the same), no module that
runs in the runtime's process changes the process-wide environment, the templates are read in
one place, and no function is longer than a screen and a half."""

from __future__ import annotations

import ast
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[2] / "local"
# The one place that may: a function's worker process sets its own environment, as Lambda does.
ENVIRONMENT_OWNERS = {("functions", "_init_worker"), ("__main__", "main")}
# Where the cloud assembly and its templates are read: cfn (files, intrinsics) and topology (what
# they declare, in the shapes the runtime acts on). Every other module asks Topology.
TEMPLATE_READERS = {"cfn", "topology"}
_TEMPLATE_KEYS = {"Resources", "Properties", "Outputs", "Parameters", "manifest.json"}
_TEMPLATE_WALKS = {"_all", "resources", "resource"}  # Topology, StackTemplate, Resolver
MAX_FUNCTION_LINES = 80


def local_imports(path: Path) -> set[str]:
    """The local.* modules `path` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("local.")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "local":
                found |= {f"local.{a.name}" for a in node.names}
            elif node.module.startswith("local."):
                found.add(node.module)
    return {name.split(".")[1] for name in found}


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in LOCAL.glob("*.py")}
    return {p.stem: local_imports(p) & modules for p in LOCAL.glob("*.py")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, …, a], or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"b"}}) is None


def test_local_modules_import_without_cycles():
    graph = import_graph()
    assert {"runtime", "server", "seed"} <= set(graph)
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def _environ_mutations(tree: ast.AST) -> list[ast.AST]:
    def is_environ(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )

    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"update", "pop", "setdefault", "clear", "__setitem__"}
            and is_environ(node.func.value)
        ):
            found.append(node)
        elif isinstance(node, ast.Assign | ast.Delete | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            found += [t for t in targets if isinstance(t, ast.Subscript) and is_environ(t.value)]
    return found


def test_nothing_in_the_runtime_process_changes_os_environ():
    offenders = []
    for path in sorted(LOCAL.glob("*.py")):
        tree = ast.parse(path.read_text())
        allowed: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and (path.stem, fn.name) in ENVIRONMENT_OWNERS:
                allowed |= {id(n) for n in _environ_mutations(fn)}
        offenders += [
            f"{path.name}:{n.lineno}" for n in _environ_mutations(tree) if id(n) not in allowed
        ]
    assert offenders == []


def template_reads(tree: ast.AST) -> list[ast.AST]:
    """Template keys spelled out, and walks over stacks' resources or bodies."""
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in _TEMPLATE_KEYS or node.value.endswith(".template.json"):
                found.append(node)
        elif isinstance(node, ast.Attribute) and node.attr in _TEMPLATE_WALKS:
            found.append(node)
    return found


def test_the_template_reader_finds_template_walks():
    walk = "for r in topology._all('AWS::SQS::Queue'): r.properties['X']"
    assert len(template_reads(ast.parse(walk))) == 1
    assert len(template_reads(ast.parse("resolver.resource(s, i)['Properties']"))) == 2
    assert template_reads(ast.parse("topology.queues()")) == []


def test_only_cfn_and_topology_read_the_templates():
    offenders = [
        f"{path.name}:{node.lineno}"
        for path in sorted(LOCAL.glob("*.py"))
        if path.stem not in TEMPLATE_READERS
        for node in template_reads(ast.parse(path.read_text()))
    ]
    assert offenders == []


def test_no_function_of_local_is_longer_than_80_lines():
    too_long = [
        f"{path.name}:{fn.lineno} {fn.name} ({fn.end_lineno - fn.lineno + 1} lines)"
        for path in sorted(LOCAL.glob("*.py"))
        for fn in ast.walk(ast.parse(path.read_text()))
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        and fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert too_long == []
