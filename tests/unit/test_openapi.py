import json
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from style_backend import openapi
from style_backend.routes import ROUTES
from style_backend.validation import Invalid
from style_backend.validation import validate as our_validate

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi_3():
    document = openapi.build()
    assert document["openapi"].startswith("3.0")
    validate(document)


def test_every_route_is_documented_with_its_handler():
    paths = openapi.build()["paths"]
    documented = {
        (m.upper(), p, op["x-handler"]) for p, ops in paths.items() for m, op in ops.items()
    }
    assert documented == {(r.method, r.path, r.handler) for r in ROUTES}
    assert len(ROUTES) == 15


def test_request_schemas_are_the_validators_schemas():
    upload = openapi.build()["paths"]["/apis/images/upload"]["post"]
    schema = upload["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["resourceIds"]["maxItems"] == 4
    assert schema["properties"]["contentType"]["enum"] == ["image/jpeg", "image/png", "image/webp"]


def test_the_committed_document_is_up_to_date():
    assert COMMITTED.read_text() == openapi.render(), (
        "docs/openapi.json is stale: run "
        "`PYTHONPATH=lambda/shared .venv/bin/python -m style_backend.openapi > docs/openapi.json`"
    )


SAMPLES = [
    {"contentType": "image/png", "resourceIds": ["a"]},
    {"contentType": "image/png", "resourceIds": ["a", "b", "c", "d", "e"]},
    {"contentType": "image/gif", "resourceIds": ["a"]},
    {"contentType": "image/png", "resourceIds": ["a", "a"]},
    {"contentType": "image/png", "resourceIds": [1]},
    {"contentType": "image/png", "resourceIds": ["../x"]},
    {"contentType": "image/png", "resourceIds": []},
    {"contentType": "image/png"},
    {"contentType": "image/png", "resourceIds": ["a"], "extra": 1},
    {"termsVersion": "v1"},
    {"termsVersion": ""},
    {"termsVersion": True},
    [],
    "x",
    None,
]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.body], ids=lambda r: r.path)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: json.dumps(s)[:40])
def test_our_validator_agrees_with_jsonschema(route, sample):
    """The small validator accepts exactly what a full JSON Schema implementation accepts."""
    reference = jsonschema.Draft7Validator(route.body).is_valid(sample)
    try:
        our_validate(sample, route.body)
        ours = True
    except Invalid:
        ours = False
    assert ours == reference
