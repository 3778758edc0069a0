"""The shape of the code: no import cycles, stacks of a screen, components that never rename a
deployed resource, invariants written once (docs/architecture.md, "Code layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Import roots (folders on sys.path) and the top-level names found in each.
ROOTS = {
    REPO_ROOT: ("app", "stacks", "local"),
    REPO_ROOT / "lambda" / "shared": ("style_backend", "facekit", "faceflow"),
    REPO_ROOT / "byoc" / "facechain": ("facechain_serving",),
    REPO_ROOT / "lambda" / "apis": None,  # handler folders: every module in them
    REPO_ROOT / "lambda" / "albums": None,
    REPO_ROOT / "lambda" / "sharing": None,
    REPO_ROOT / "lambda" / "image_processing": None,
    REPO_ROOT / "lambda" / "facechain_codebuild": None,
}
MAX_STACK_CONSTRUCTOR_LINES = 40  # a screen
MAX_CONSTRUCT_CONSTRUCTOR_LINES = 60  # any other construct of stacks/


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root, names in ROOTS.items():
        if names is None:
            found.update({p.stem: p for p in root.glob("*.py")})
            continue
        for name in names:
            if (root / f"{name}.py").is_file():
                found[name] = root / f"{name}.py"
                continue
            for path in (root / name).rglob("*.py"):
                parts = path.relative_to(root).with_suffix("").parts
                dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                found[dotted] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports, anywhere in it (a lazy import inside a function
    still runs that module's import)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import sub` imports the submodule; `from pkg import name`, the package.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in modules and t != module)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_covers_every_package():
    modules = _modules()
    for name in (
        "app",
        "stacks.shared.component",
        "style_backend.storage.processes",
        "facekit.faces",
    ):
        assert name in modules
    assert {"face_crop", "upload", "build_events", "facechain_serving.server"} <= set(modules)


def test_no_package_imports_in_a_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert graph["stacks.lambdas.stack"] >= {"stacks.shared", "stacks.lambdas.pipeline"}
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# ---------------------------------------------------------------- style_backend's layers

STYLE_BACKEND = REPO_ROOT / "lambda" / "shared" / "style_backend"
# What the pure domain may import besides the standard library (style_backend/__init__.py).
DOMAIN_ALLOWED = {"pydantic", "pydantic_core", "facekit", "common.errors", "style_backend.domain"}
HANDLER_FOLDERS = ("apis", "image_processing", "facechain_codebuild")
MAX_FUNCTION_LINES = 80


def _imported_names(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it; `from a import b` counts as a.b too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _within(name: str, prefixes: set[str] | tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_styling_domain_is_pure():
    import sys

    modules = sorted((STYLE_BACKEND / "domain").rglob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        for name in _imported_names(path):
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names and not _within(
                name, ("urllib.request", "http.client")
            ):
                continue
            if top in ("common", "style_backend") and name in ("common", "style_backend"):
                continue  # `from common import errors`: the submodule is checked
            assert _within(name, DOMAIN_ALLOWED), f"{path.name} imports {name}"


def test_storage_never_imports_the_edge():
    for path in sorted((STYLE_BACKEND / "storage").rglob("*.py")):
        for name in _imported_names(path):
            assert not _within(name, ("style_backend.edge", "faceflow")), (path.name, name)


def test_no_function_of_the_styling_backend_or_its_handlers_is_longer_than_80_lines():
    folders = [STYLE_BACKEND, *(REPO_ROOT / "lambda" / f for f in HANDLER_FOLDERS)]
    long = [
        f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1})"
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def _constructors() -> list[tuple[str, bool, int]]:
    """(class, is a stack, lines of its __init__) for every class of stacks/."""
    found = []
    for path in sorted((REPO_ROOT / "stacks").rglob("*.py")):
        for cls in ast.walk(ast.parse(path.read_text())):
            if not isinstance(cls, ast.ClassDef):
                continue
            bases = {ast.unparse(b) for b in cls.bases}
            is_stack = any(b.endswith("Stack") for b in bases)
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                    name = f"{path.relative_to(REPO_ROOT)}:{cls.name}"
                    found.append((name, is_stack, fn.end_lineno - fn.lineno + 1))
    return found


def test_no_stack_constructor_is_longer_than_a_screen():
    constructors = _constructors()
    stacks = [(name, lines) for name, is_stack, lines in constructors if is_stack]
    assert len(stacks) >= 9
    assert [s for s in stacks if s[1] > MAX_STACK_CONSTRUCTOR_LINES] == []
    others = [(n, lines) for n, is_stack, lines in constructors if not is_stack]
    assert [c for c in others if c[1] > MAX_CONSTRUCT_CONSTRUCTOR_LINES] == []


# ---------------------------------------------------------------- components and logical ids


def _app():
    import aws_cdk as cdk

    return cdk.App(context={"aws:cdk:bundling-stacks": []})


def test_logical_ids_are_cdks_own_where_no_component_is_on_the_path():
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    from stacks.shared.component import logical_id, path_components

    app = _app()
    stack = cdk.Stack(app, "Plain")
    group = Construct(stack, "Group")
    sqs.Queue(group, "Queue", enforce_ssl=True)  # Group/Queue/Resource, Group/Queue/Policy/…
    sqs.Queue(Construct(group, "Default"), "Q" * 250)  # Default hidden, long human part
    bucket_like = Construct(stack, "Bucket")
    sqs.Queue(bucket_like, "Bucket")  # a component the previous one ends with
    elements = [c for c in stack.node.find_all() if isinstance(c, cdk.CfnElement)]
    assert len(elements) == 4
    for element in elements:
        expected = stack.resolve(element.logical_id)
        assert logical_id(path_components(stack, element)) == expected, element.node.path


def test_components_keep_the_logical_ids_of_a_flat_stack():
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from stacks.shared import Component, ProjectStack

    def ids(stack: cdk.Stack) -> set[str]:
        template = cdk.assertions.Template.from_stack(stack).to_json()
        return set(template["Resources"])

    app = _app()
    flat = cdk.Stack(app, "Flat")
    sqs.Queue(flat, "Jobs")
    sqs.Queue(flat, "JobsDeadLetterQueue")
    grouped = ProjectStack(app, "Grouped")
    component = Component(Component(grouped, "Pipeline"), "Jobs")
    sqs.Queue(component, "Default")  # the component's own resource: logical id of `Jobs`
    sqs.Queue(component, "JobsDeadLetterQueue")
    assert ids(grouped) == ids(flat)


def test_two_children_named_alike_in_one_stack_do_not_synthesize():
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from stacks.shared import Component, ProjectStack

    app = _app()
    stack = ProjectStack(app, "Clash")
    sqs.Queue(Component(stack, "A"), "Queue")
    sqs.Queue(Component(stack, "B"), "Queue")
    with pytest.raises(RuntimeError, match="Queue"):
        cdk.assertions.Template.from_stack(stack)


# ---------------------------------------------------------------- invariants written once


def _function(synth, stack: str, construct_id: str) -> dict:
    (fn,) = [
        r["Properties"]
        for k, r in synth.resources(stack, "AWS::Lambda::Function").items()
        if k.startswith(construct_id)
        and k[len(construct_id) :].isalnum()
        and len(k) == len(construct_id) + 8
    ]
    return fn


def test_the_swap_claim_lease_outlasts_three_face_swap_timeouts(synth):
    from style_backend.domain.process import CLAIM_LEASE_SECONDS

    timeout = _function(synth, "Functions", "FaceSwapFunction")["Timeout"]
    assert timeout == 60
    assert 3 * timeout <= CLAIM_LEASE_SECONDS


def test_the_upload_limit_is_one_number(synth):
    from stacks.settings import Settings
    from style_backend.config import DEFAULT_MAX_UPLOAD_BYTES

    assert Settings().max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    for construct_id in ("UploadFunction", "FaceCropFunction"):
        env = _function(synth, "Functions", construct_id)["Environment"]["Variables"]
        assert env["MAX_UPLOAD_BYTES"] == str(DEFAULT_MAX_UPLOAD_BYTES)


def test_queries_use_the_indexes_the_tables_define(synth):
    from style_backend.storage import keys, user_data

    gsis = {
        gsi["IndexName"]
        for table in synth.resources("Tables", "AWS::DynamoDB::Table").values()
        for gsi in table["Properties"].get("GlobalSecondaryIndexes", [])
    }
    assert gsis == {keys.PROCESS_BY_USER, keys.BASE_RESOURCE_BY_STYLE}
    assert user_data.PROCESS_BY_USER == keys.PROCESS_BY_USER  # the name erasure queries by
