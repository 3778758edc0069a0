"""The Expo app in clients/mobile (issue 29), as far as it can be checked without running it
(its jest tests and the Chromium test against the local runtime do that): a pinned workspace of
the repository on the typed client, every API call through that client, and only operations the
OpenAPI document has."""

from __future__ import annotations

import json
import re

from tests.typescript import ROOT

MOBILE = ROOT / "clients" / "mobile"
SOURCES = sorted((MOBILE / "src").rglob("*.ts*"))
API_MODULE = MOBILE / "src" / "api.ts"
# The API's first path segments: a string starting with one outside api.ts would be a call
# written by hand.
API_ROOTS = ("/albums", "/apis", "/agree", "/shares")


def test_the_app_is_a_pinned_workspace_on_the_typed_client():
    root = json.loads((ROOT / "package.json").read_text())
    package = json.loads((MOBILE / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert "clients/mobile" in root["workspaces"]
    assert package["dependencies"]["@style-backend/client"] == "1.0.0"
    pins = {**package["dependencies"], **package["devDependencies"]}
    assert set(pins) >= {"expo", "react-native", "react-native-web", "jest-expo"}
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        if name == "@style-backend/client":
            continue
        entry = lock.get(f"clients/mobile/node_modules/{name}") or lock[f"node_modules/{name}"]
        assert entry["version"] == version, name


def test_every_api_call_goes_through_the_typed_client():
    assert 'from "@style-backend/client"' in API_MODULE.read_text()
    for source in SOURCES:
        if source == API_MODULE:
            continue
        text = source.read_text()
        written = [p for p in re.findall(r'["`](/[A-Za-z]+)', text) if p.startswith(API_ROOTS)]
        assert not written, f"{source.relative_to(ROOT)} spells API paths: {written}"


def test_every_operation_the_app_calls_is_in_the_openapi_document():
    # Type-checked already (tsc over the generated schema); this says which one is missing.
    called = set(re.findall(r'http\.(GET|POST|PUT|DELETE)\(\s*"([^"]+)"', API_MODULE.read_text()))
    assert len(called) >= 15, called  # the pattern still finds the calls
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text())["paths"]
    missing = sorted(f"{m} {p}" for m, p in called if m.lower() not in paths.get(p, {}))
    assert not missing, missing


def test_the_web_export_is_built_offline_and_served_where_config_json_is():
    makefile = (ROOT / "Makefile").read_text()
    assert "EXPO_OFFLINE=1 EXPO_NO_TELEMETRY=1" in makefile
    app = json.loads((MOBILE / "app.json").read_text())["expo"]
    assert app["experiments"]["baseUrl"] == "/mobile"  # local/server.py serves it there
    assert app["userInterfaceStyle"] == "automatic"  # light and dark, as the OS says


def test_text_follows_the_os_font_scale():
    # React Native scales text with the OS setting unless told not to; nothing here tells it.
    for source in SOURCES:
        text = source.read_text()
        for opt_out in ("allowFontScaling", "maxFontSizeMultiplier"):
            assert opt_out not in text, f"{source.relative_to(ROOT)}: {opt_out}"
