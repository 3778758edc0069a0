"""docs/openapi.json: Powertools' OpenAPI of the API functions' routers, current, valid, and
exactly the routes the API stack deploys."""

from pathlib import Path

from openapi_spec_validator import validate

from common import api as edge
from style_backend.edge.api import routes
from tests.fresh_python import assert_runs
from tests.unit.test_apigateway_stack import _methods

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_document_is_valid_openapi():
    document = routes.document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_committed_document_is_up_to_date():
    assert COMMITTED.read_text() == routes.render(), (
        "docs/openapi.json is stale: run "
        "`PYTHONPATH=lambda/shared .venv/bin/python -m style_backend.edge.api.routes "
        "> docs/openapi.json`"
    )


def test_the_document_has_exactly_the_routes_the_api_stack_deploys(synth):
    deployed = {(path, verb) for path, verb in _methods(synth) if verb != "OPTIONS"}
    paths = routes.document()["paths"]
    documented = {(p, m.upper()) for p, ops in paths.items() for m in ops}
    assert documented == deployed  # none missing, none extra
    assert documented == {(r.path, r.method) for r in routes.routes()}
    # 7 styling routes, 9 album (issues 11, 24), 8 people (issue 12), 5 share routes (issue 13)
    assert len(documented) == 29


def test_each_operation_names_its_function_and_handler():
    paths = routes.document()["paths"]
    for route in routes.routes():
        operation = paths[route.path][route.method.lower()]
        assert (operation["x-function"], operation["x-handler"]) == (route.function, route.handler)
        assert operation["operationId"] == routes.operation_id(route.method, route.path)


def test_every_error_status_is_documented_with_the_error_shape():
    document = routes.document()
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "message"]
    expected = {
        ("GET", "/agree"): set(),
        ("POST", "/agree"): {400, 409, 413, 415},
        ("GET", "/apis/styles"): set(),
        ("POST", "/apis/images/upload"): {400, 403, 409, 413, 415},
        ("GET", "/apis/images/{userId}"): {400, 403},
        ("GET", "/apis/images/{userId}/processes/{processId}"): {400, 403, 404},
        ("DELETE", "/apis/images/{userId}"): {400, 403},
    }
    for (method, path), own in expected.items():
        responses = document["paths"][path][method.lower()]["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        assert errors == own | set(edge.COMMON_ERRORS), (method, path)
        for status in errors:
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
        assert "422" not in responses  # Powertools' default; we answer 400
        (success,) = [s for s in responses if int(s) < 400]
        assert responses[success]["content"]["application/json"]["schema"]["$ref"]


def test_request_schemas_come_from_the_models():
    upload = routes.document()["components"]["schemas"]["UploadRequest"]
    assert upload["additionalProperties"] is False
    ids = upload["properties"]["resourceIds"]
    assert (ids["minItems"], ids["maxItems"], ids["uniqueItems"]) == (1, 4, True)
    assert ids["items"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert upload["properties"]["contentType"]["enum"] == [
        "image/avif",
        "image/heic",
        "image/heif",
        "image/jpeg",
        "image/png",
        "image/webp",
    ]
    listing = routes.document()["paths"]["/apis/images/{userId}"]["get"]["parameters"]
    limit = next(p for p in listing if p["name"] == "limit")
    assert limit["in"] == "query" and limit["schema"]["type"] == "integer"
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 50)
    assert routes.document()["security"] == [{"cognito": []}]  # every route needs the token


def test_building_the_routes_loads_no_aws_sdk():
    """The API stack imports the route table: that must not load boto3 or botocore's clients."""
    code = (
        "import sys; from style_backend.edge.api.routes import routes, document\n"
        "routes(); document()\n"
        "bad = [m for m in ('boto3', 'botocore.client', 'botocore.session') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    assert_runs(code, ["lambda/shared"], env={"PATH": "/usr/bin:/bin"})
