"""The API edge (common.api) through real API functions: what every response carries,
what is refused before routing, how pydantic's errors and domain exceptions become answers."""

import base64
import json
from urllib.parse import quote

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from common import api as edge
from common.errors import DomainError
from local.apigw import load_handler, to_proxy_event
from style_backend.domain import errors as styling_errors
from style_backend.edge.api.routes import routes

USER = "5b1c0f7e-0000-4000-8000-000000000001"
CLAIMS = {"sub": USER, "token_use": "id"}


def _call(handler, method, path, body=None, headers=None, query=None, b64=False, params=None):
    event = to_proxy_event(
        method,
        path,
        {"Content-Type": "application/json", **(headers or {})},
        query or {},
        body,
        CLAIMS,
        params,
    )
    if b64:
        event["isBase64Encoded"] = True
    reply = handler(event, None)
    return reply["statusCode"], reply["headers"], json.loads(reply["body"] or "null")


def _app(route_function):
    """A one-route resolver behind the same edge (for failures no real route can be made to do)."""
    router = Router()
    router.get("/probe")(route_function)
    return edge.entry_point(edge.resolver(router))


def _bug():
    raise KeyError("oops")


def _throttled():
    from botocore.exceptions import ClientError

    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")


def _denied():
    from botocore.exceptions import ClientError

    raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "Query")


def _ok() -> dict:
    return {"ok": True}


def test_every_response_is_json_with_cors_and_no_caching():
    status, headers, body = _call(_app(_ok), "GET", "/probe")
    assert status == 200
    assert body == {"ok": True}
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("route_function", "status", "code"),
    [(_throttled, 429, "THROTTLED"), (_denied, 500, "INTERNAL"), (_bug, 500, "INTERNAL")],
)
def test_failures_map_to_error_bodies_that_leak_nothing(route_function, status, code):
    got, headers, body = _call(_app(route_function), "GET", "/probe")
    assert (got, body["error"]["code"]) == (status, code)
    assert body["error"]["message"]
    assert "oops" not in json.dumps(body) and "AccessDenied" not in json.dumps(body)
    if status == 429:
        assert headers["Retry-After"] == "1"


def test_a_rate_limited_refusal_says_when_to_come_back():
    from faceflow.domain.errors import ShareRateLimited

    def limited():
        raise ShareRateLimited("At most 10 shares per hour.", retry_after=1234)

    router = Router()
    router.get("/probe")(limited)
    got, headers, body = _call(edge.entry_point(edge.resolver(router)), "GET", "/probe")
    assert (got, body["error"]["code"], headers["Retry-After"]) == (429, "RATE_LIMITED", "1234")


def test_the_document_promises_retry_after_on_every_429():
    from style_backend.edge.api.routes import document

    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            header = operation["responses"]["429"]["headers"]["Retry-After"]
            assert header["required"] and header["schema"]["type"] == "integer", (method, path)


def test_domain_errors_get_their_status_at_the_edge_from_their_code():
    for code, status in edge.STATUS.items():

        def raises(code=code):
            raise DomainError("refused for a reason", code)

        got, _, body = _call(_app(raises), "GET", "/probe")
        assert (got, body["error"]) == (status, {"code": code, "message": "refused for a reason"})


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_every_error_class_of_both_products_has_its_status_in_the_one_table():
    """The edge's table is the only place a status is decided: every error class's code is in
    it (a new code without a status would quietly answer 400), and none carries a status."""
    import faceflow.domain.errors
    import faceflow.domain.people
    import style_backend.domain.errors  # noqa: F401 (its classes register as subclasses)

    classes = _subclasses(DomainError)
    assert {"AlbumNotFound", "ShareRateLimited", "NotConsented", "EditRefused"} <= {
        c.__name__ for c in classes
    }
    for cls in classes:
        assert cls.code in edge.STATUS or cls is faceflow.domain.people.EditRefused, cls
        assert not hasattr(cls, "status"), cls
    assert edge.STATUS[styling_errors.NotConsented.code] == 403
    assert edge.STATUS[faceflow.domain.errors.ShareRateLimited.code] == 429


AGREE = load_handler("agreement.handler")
UPLOAD = load_handler("upload.handler")
IMAGES = load_handler("images.handler")


@pytest.mark.parametrize(
    ("body", "headers", "b64", "status", "code"),
    [
        ('{"termsVersion": "v"}', {"Content-Type": ""}, False, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            '{"termsVersion": "v"}',
            {"Content-Type": "text/plain"},
            False,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("@@@", {}, True, 400, "INVALID_JSON"),
        (base64.b64encode(b"\xff\xfe").decode(), {}, True, 400, "INVALID_JSON"),
        (None, {}, False, 400, "INVALID_JSON"),
        ("[" * 5000 + "]" * 5000, {}, False, 400, "INVALID_JSON"),  # nested 5000 deep
        ('{"termsVersion": ' + "9" * 5000 + "}", {}, False, 400, "INVALID_JSON"),  # 5000 digits
        (
            '{"termsVersion": "' + "x" * edge.MAX_BODY_BYTES + '"}',
            {},
            False,
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ],
)
def test_bodies_refused_before_any_route_runs(body, headers, b64, status, code):
    got, _, reply = _call(AGREE, "POST", "/agree", body, headers, b64=b64)
    assert (got, reply["error"]["code"]) == (status, code)


def test_base64_bodies_and_charsets_are_accepted_up_to_validation():
    raw = base64.b64encode(b'{"termsVersion": ""}').decode()
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    status, _, body = _call(AGREE, "POST", "/agree", raw, headers, b64=True)
    # Parsed, then refused by the model (not by the edge): the body did arrive.
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert "termsVersion: must be at least 1 characters long" in body["error"]["message"]


# Each route's validation errors come from its pydantic models, naming the field path.
def _upload(ids, **extra):
    return {"contentType": "image/png", "resourceIds": ids, **extra}


LIST = f"/apis/images/{USER}"
MODEL_ERRORS = [
    ("agree", {"termsVersion": 1}, "termsVersion: must be a string"),
    ("agree", {"x": "y"}, "termsVersion: is required"),
    ("upload", _upload(["a\n"]), "resourceIds/0: must match"),  # a full match: no trailing \n
    ("upload", _upload(["a"], z=1), "z: is not an allowed field"),
    ("list", {"limit": "1_0"}, "limit: must be an integer"),
    ("list", {"limit": " 1 "}, "limit: must be an integer"),
    ("list", {"limit": "１０"}, "limit: must be an integer"),  # full-width digits
    ("list", {"limit": "51"}, "limit: must be at most 50"),
    ("progress", "p\n", "processId: must match"),
    ("progress-user", "u" * 129, "userId: must be at most 128"),
]


def _invalid_call(kind, value):
    if kind == "agree":
        return _call(AGREE, "POST", "/agree", json.dumps(value))
    if kind == "upload":
        return _call(UPLOAD, "POST", "/apis/images/upload", json.dumps(value))
    if kind == "list":
        return _call(IMAGES, "GET", LIST, query=value, params={"userId": USER})
    user, process = (USER, value) if kind == "progress" else (value, "p-1")
    path = f"/apis/images/{quote(user)}/processes/{quote(process)}"  # as API Gateway passes it
    return _call(IMAGES, "GET", path, params={"userId": user, "processId": process})


@pytest.mark.parametrize(("kind", "value", "where"), MODEL_ERRORS)
def test_validation_errors_come_from_the_models_with_field_paths(kind, value, where):
    status, _, reply = _invalid_call(kind, value)
    assert (status, reply["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert where in reply["error"]["message"]


@pytest.mark.parametrize(
    ("token", "where"),
    [("", "nextToken: must be at least 1"), ("x" * 2049, "nextToken: must be at most 2048")],
)
def test_a_token_the_schema_refuses_is_an_invalid_token_like_any_other(token, where):
    status, _, reply = _invalid_call("list", {"nextToken": token})
    assert (status, reply["error"]["code"]) == (400, "INVALID_TOKEN")
    assert where in reply["error"]["message"]


def test_every_route_validates_against_its_models():
    """Every route with a body, query or path parameter is covered by the test above."""
    covered = {
        ("POST", "/agree"),
        ("POST", "/apis/images/upload"),
        ("GET", "/apis/images/{userId}"),
    }
    covered.add(("GET", "/apis/images/{userId}/processes/{processId}"))
    # The album routes' validation is tests/integration/albums/test_album_api.py's.
    with_inputs = {
        (r.method, r.path) for r in routes() if r.group == "apis" and (r.has_body or "{" in r.path)
    }
    assert with_inputs - covered <= {("DELETE", "/apis/images/{userId}")}


@pytest.mark.parametrize(
    ("allowed", "origin", "expected", "vary"),
    [
        (None, "https://evil.example", "*", False),  # default: any origin (bearer tokens)
        ("*", None, "*", False),
        (
            "https://app.example,https://admin.example",
            "https://admin.example",
            "https://admin.example",
            True,
        ),
        ("https://app.example", "https://evil.example", None, True),
        ("https://app.example", None, None, True),
    ],
)
def test_cors_origin_follows_configuration(monkeypatch, allowed, origin, expected, vary):
    if allowed is None:
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", allowed)
    headers = {"Origin": origin} if origin else {}
    for route_function in (_ok, _bug):  # errors carry the same CORS answer
        _, sent, _ = _call(_app(route_function), "GET", "/probe", headers=headers)
        assert sent.get("Access-Control-Allow-Origin") == expected
        assert ("Vary" in sent) == vary


def test_events_without_claims_are_refused_before_validation():
    event = to_proxy_event("POST", "/agree", {"Content-Type": "application/json"}, body="[")
    reply = AGREE(event, None)
    assert reply["statusCode"] == 401


def test_api_log_lines_carry_the_gateway_request_id_and_the_lambda_request_id():
    import io
    import logging
    from dataclasses import dataclass

    from common.observability import logger

    @dataclass
    class Context:
        aws_request_id: str = "lambda-req-7"
        function_name: str = "UploadFunction"
        function_version: str = "$LATEST"
        invoked_function_arn: str = ""
        memory_limit_in_mb: int = 256

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(handler)
    try:
        event = to_proxy_event("GET", "/probe", {}, claims=CLAIMS)
        _app(_bug)(event, Context())
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    (entry,) = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert entry["message"] == "unhandled error"
    assert entry["correlation_id"] == event["requestContext"]["requestId"]
    assert entry["function_request_id"] == "lambda-req-7"
    assert entry["level"] == "ERROR" and "cold_start" in entry


def test_accepted_uploads_are_an_emf_metric(capsys):
    from common.observability import count

    count("UploadsAccepted")
    (line,) = [x for x in capsys.readouterr().out.splitlines() if '"_aws"' in x]
    emf = json.loads(line)
    assert emf["UploadsAccepted"] == [1.0]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "StyleBackend"
    assert directive["Metrics"] == [{"Name": "UploadsAccepted", "Unit": "Count"}]
