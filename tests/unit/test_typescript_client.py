"""The typed client in clients/typescript: generated from docs/openapi.json (and current with
it), and its wrapper type-checks against the generated types."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.typescript import CLIENT, ROOT, node, npm_tool, run

GENERATOR = CLIENT / "scripts" / "generate.mjs"
COMMITTED = CLIENT / "src" / "schema.ts"
DOCUMENT = ROOT / "docs" / "openapi.json"


def _generate(output: Path, document: Path = DOCUMENT) -> str:
    npm_tool("openapi-typescript")
    result = run(node(), str(GENERATOR), str(output), str(document))
    assert result.returncode == 0, result.stderr
    return output.read_text()


def test_the_committed_client_is_current_with_the_openapi_document(tmp_path):
    regenerated = _generate(tmp_path / "schema.ts")
    assert regenerated == COMMITTED.read_text(), (
        "clients/typescript/src/schema.ts is stale against docs/openapi.json: "
        "run `make client` and commit the result"
    )


def test_a_changed_document_changes_the_generated_types(tmp_path):
    """The comparison above can fail: the generator reads the document it is given."""
    document = json.loads(DOCUMENT.read_text())
    agreement = document["paths"]["/agree"]["get"]["responses"]["200"]
    schema = agreement["content"]["application/json"]["schema"]
    if "$ref" in schema:  # the model's schema, under components
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    schema["properties"]["reminderDays"] = {"type": "integer"}
    changed = tmp_path / "openapi.json"
    changed.write_text(json.dumps(document))
    generated = _generate(tmp_path / "schema.ts", changed)
    assert generated != COMMITTED.read_text()
    assert "reminderDays?: number;" in generated


def test_the_wrapper_and_its_usage_type_check_against_the_generated_types():
    """tsc over src/ and typecheck/usage.ts, whose lines marked to expect a type error must be
    errors: an operation whose types degraded to `any` fails this too."""
    result = run(npm_tool("tsc"), "-p", str(CLIENT / "tsconfig.check.json"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_is_a_workspace_of_the_repository_with_pinned_tools():
    root = json.loads((ROOT / "package.json").read_text())
    package = json.loads((CLIENT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert root["workspaces"] == ["clients/typescript", "clients/mobile"]
    pins = {**package["dependencies"], **package["devDependencies"]}
    assert set(pins) >= {"openapi-fetch", "openapi-typescript", "esbuild", "typescript"}
    for name, version in pins.items():
        assert version[0].isdigit(), f"{name} is not pinned: {version}"
        assert lock[f"node_modules/{name}"]["version"] == version, name


def test_the_local_page_calls_the_api_only_through_the_client():
    page = (ROOT / "local" / "web" / "app.js").read_text()
    assert 'from "./client.js";' in page
    html = (ROOT / "local" / "web" / "index.html").read_text()
    assert '<script type="module" src="/app.js">' in html
    # Plain fetch stays only for what the API does not serve: the page's configuration and the
    # local-only sign-in helper.
    fetched = re.findall(r"fetch\(([^,)]+)", page)
    assert fetched == ["`/local/auth/${action}`", '"/config.json"'], fetched
    # The albums part of the page (an ES module beside app.js) calls the API through the same
    # client (`state.client.http`), never fetch (its S3 PUTs use XMLHttpRequest for progress).
    albums = (ROOT / "local" / "web" / "albums.js").read_text()
    assert '<script type="module" src="/albums.js">' in html
    assert 'from "./app.js";' in albums and "state.client.http[method]" in albums
    assert re.findall(r"fetch\(", albums) == []
    # So does its share dialog (shares.js, imported by albums.js); it fetches only the local-only
    # outbox of sent emails, which the API does not serve.
    shares = (ROOT / "local" / "web" / "shares.js").read_text()
    assert 'from "./shares.js";' in albums
    assert 'from "./app.js";' in shares and "state.client.http[method]" in shares
    assert re.findall(r"fetch\(([^,)]+)", shares) == ['"/local/outbox"']


def test_every_operation_the_albums_page_calls_is_in_the_openapi_document():
    # albums.js reaches the album and people routes through `state.client.http` by path (plain
    # JavaScript: nothing type-checks them); a mistyped path or one the API dropped would only
    # show as a 404 in the browser.
    albums = (ROOT / "local" / "web" / "albums.js").read_text()
    shares = (ROOT / "local" / "web" / "shares.js").read_text()  # its share dialog
    called = set(re.findall(r'\bapi\(\s*"(GET|POST|PUT|DELETE)",\s*"([^"]+)"', albums + shares))
    called |= {("GET", path) for path in re.findall(r'\blistAll\(\s*"([^"]+)"', albums)}
    assert len(called) >= 15, called  # the patterns still find the calls
    paths = json.loads(DOCUMENT.read_text())["paths"]
    missing = sorted(f"{m} {p}" for m, p in called if m.lower() not in paths.get(p, {}))
    assert not missing, f"albums.js calls operations docs/openapi.json lacks: {missing}"
