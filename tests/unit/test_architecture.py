"""The shape of the code: no import cycles, stacks of a screen, components that never rename a
deployed resource, invariants written once (docs/architecture.md, "Code layout")."""

from __future__ import annotations

import ast
import re
import sys
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


# ---------------------------------------------------------------- layers (issue 26)

SHARED = REPO_ROOT / "lambda" / "shared"
PRODUCTS = ("style_backend", "faceflow")
LAYERS = ("domain", "storage", "edge")
# A product's top level holds its layers, its settings and nothing else.
PRODUCT_TOP_LEVEL = {"__init__.py", "config.py", *LAYERS}
# What a domain module may import besides the standard library and its own domain: computation
# and validation libraries, the face package, and common's one error model. Nothing of AWS,
# Lambda, HTTP clients, settings, storage or the edge.
DOMAIN_MAY_IMPORT = (
    "common.errors",
    "cryptography",
    "facekit",
    "faiss",
    "imagehash",
    "numpy",
    "PIL",
    "pydantic",
    "pydantic_core",
    "scipy",
    "skimage",
    "sklearn",
)
NOT_STDLIB = ("urllib.request", "http.client")  # the standard library's HTTP clients
# What none of the products' domains import, named so a failure says what it is.
IMPURE = (
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "requests",
    "urllib3",
    "urllib.request",
    "http.client",
    "common.aws",
    "common.api",
    "common.config",
    "common.erasure",
    "common.observability",
    "common.pagination",
)
MAX_FUNCTION_LINES = 80
FUNCTION_ROOTS = ("lambda", "stacks", "local", "byoc")
KEY_PREFIX = re.compile(r"^[A-Z][A-Z0-9_]*#")  # "ALBUM#…", f"USER#{…}": a table key's value


def _absolute_imports(path: Path, package: str) -> set[str]:
    """Every module name `path` imports (relative imports made absolute), anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _named(imports: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {i for i in imports if any(i == p or i.startswith(p + ".") for p in prefixes)}


def _package_modules(root: Path) -> list[tuple[Path, str]]:
    """(file, its package's dotted name) for every module under `root` (a folder of SHARED)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(SHARED).parts
        found.append((path, ".".join(parts[:-1])))
    return found


def _outside_the_domain(name: str, product: str) -> bool:
    top = name.partition(".")[0]
    if name in ("common", product):  # `from common import errors`: the submodule is checked
        return False
    if top in sys.stdlib_module_names:
        return bool(_named({name}, NOT_STDLIB))
    return not _named({name}, (*DOMAIN_MAY_IMPORT, f"{product}.domain"))


def _layer_violations(product: str) -> list[str]:
    other = tuple(p for p in PRODUCTS if p != product)
    violations = []
    for path, package in _package_modules(SHARED / product):
        imports = _absolute_imports(path, package)
        layer = package.split(".")[1] if "." in package else None
        banned = _named(imports, other)
        if layer == "domain":
            banned |= {n for n in imports if _outside_the_domain(n, product)}
        if layer == "storage":
            banned |= _named(imports, (f"{product}.edge",))
        violations += [f"{path.relative_to(SHARED)} imports {n}" for n in sorted(banned)]
    return violations


def test_each_product_has_the_same_three_layers_and_nothing_beside_them():
    for product in PRODUCTS:
        top = {p.name for p in (SHARED / product).iterdir() if p.suffix == ".py" or _has_py(p)}
        assert top == PRODUCT_TOP_LEVEL, (product, top ^ PRODUCT_TOP_LEVEL)
        for layer in LAYERS:
            assert (SHARED / product / layer / "__init__.py").is_file(), (product, layer)


def _has_py(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.py"))


@pytest.mark.parametrize("product", PRODUCTS)
def test_domain_is_pure_storage_never_reaches_the_edge_and_products_stay_apart(product):
    assert _layer_violations(product) == []


def test_the_neutral_and_face_packages_import_no_product():
    for root, banned in (("common", PRODUCTS), ("facekit", (*PRODUCTS, "common"))):
        for path, package in _package_modules(SHARED / root):
            assert _named(_absolute_imports(path, package), banned) == set(), path


def test_the_layer_check_catches_what_it_forbids(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import boto3\nfrom ..storage import keys\nfrom faceflow.edge import steps\n"
        "def f():\n    from common import aws\n"
    )
    imports = _absolute_imports(module, "style_backend.domain")
    assert _named(imports, IMPURE) == {"boto3", "common.aws"}
    assert "style_backend.storage" in imports and "faceflow.edge" in imports
    outside = {n for n in imports if _outside_the_domain(n, "style_backend")}
    assert {"boto3", "common.aws", "style_backend.storage", "faceflow.edge"} <= outside
    assert not _outside_the_domain("numpy.linalg", "faceflow")
    assert not _outside_the_domain("json", "faceflow")
    assert _outside_the_domain("urllib.request", "faceflow")


def _string_heads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal and every f-string's literal start, docstrings
    left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                found.append((node.lineno, head.value))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            found.append((node.lineno, node.value))
    return found


@pytest.mark.parametrize("product", PRODUCTS)
def test_table_keys_are_written_in_the_products_one_key_schema(product):
    schema = SHARED / product / "storage" / "keys.py"
    assert schema.is_file()
    elsewhere = [
        f"{path.relative_to(SHARED)}:{line} {text!r}"
        for path, _ in _package_modules(SHARED / product)
        if path != schema
        for line, text in _string_heads(ast.parse(path.read_text()))
        if KEY_PREFIX.match(text)
    ]
    assert elsewhere == []


def _long_functions() -> list[str]:
    found = []
    for root in FUNCTION_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            if {"node_modules", "__pycache__"} & set(path.parts):
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}")
    return found


def test_no_function_is_longer_than_80_lines():
    assert _long_functions() == []


HANDLER_FOLDERS = ("apis", "albums", "sharing", "live", "image_processing", "facechain_codebuild")


def _entry_points(path: Path) -> dict[str, str]:
    """The module's Lambda entry points and how each is made: "entry_point" (an API function's
    `handler = edge.entry_point(app)`), "lambda_entry" (a public function of `(event, context)`
    decorated with it) or "bare"."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            if [a.arg for a in node.args.args[:2]] == ["event", "context"]:
                wrapped = any("lambda_entry" in ast.unparse(d) for d in node.decorator_list)
                found[node.name] = "lambda_entry" if wrapped else "bare"
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "handler" for t in node.targets
        ):
            found["handler"] = (
                "entry_point" if "entry_point(" in ast.unparse(node.value) else "bare"
            )
    return found


def test_every_handler_is_wrapped_the_same_way():
    entries = {
        f"{folder}/{path.stem}.{name}": how
        for folder in HANDLER_FOLDERS
        for path in sorted((REPO_ROOT / "lambda" / folder).glob("*.py"))
        for name, how in _entry_points(path).items()
    }
    expected = {"albums/album_steps.start", "sharing/share_keys.on_event", "apis/upload.handler"}
    assert expected <= set(entries)
    assert {name for name, how in entries.items() if how == "bare"} == set()


def test_the_documented_code_layout_is_the_trees():
    from scripts import code_layout

    block = code_layout.render()
    assert "lambda/shared/faceflow/storage/" in block and "lambda/shared/common/" in block
    assert code_layout.documented() == block, "run: python scripts/code_layout.py --write"


def test_every_schemathesis_parametrized_module_runs_serially():
    """Under pytest-xdist a worker runs only the first of schemathesis' parametrized cases and
    reports one test: such modules are marked `serial`, which `make test` runs in one process."""
    modules = [
        path
        for path in sorted((REPO_ROOT / "tests").rglob("test_*.py"))
        if re.search(r"^@schema\.parametrize\(", path.read_text(), re.MULTILINE)
    ]
    assert len(modules) >= 2
    for path in modules:
        marks = [
            ast.unparse(node.value)
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "pytestmark"
        ]
        assert any("pytest.mark.serial" in m for m in marks), path
