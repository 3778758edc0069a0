"""REST API: the routes of docs/architecture.md, each behind the Cognito authorizer."""

from __future__ import annotations

import pytest

# (path, method) → function construct id, written out from docs/architecture.md.
ROUTES = {
    ("/agree", "GET"): "AgreementFunction",
    ("/agree", "POST"): "AgreementFunction",
    ("/apis/styles", "GET"): "StylesFunction",
    ("/apis/images/upload", "POST"): "UploadFunction",
    ("/apis/images/{userId}", "GET"): "ImagesFunction",
    ("/apis/images/{userId}", "DELETE"): "ErasureFunction",
    ("/apis/images/{userId}/processes/{processId}", "GET"): "ImagesFunction",
    # FaceFlow albums (issue 11): one function behind every album route.
    **{
        (path, method): "AlbumsApiFunction"
        for path, method in (
            ("/albums", "POST"),
            ("/albums", "GET"),
            ("/albums/{albumId}", "DELETE"),
            ("/albums/{albumId}/uploadUrl", "POST"),
            ("/albums/{albumId}/photos", "GET"),
            ("/albums/{albumId}/status", "GET"),
            ("/albums/{albumId}/photos/{photoId}/upload", "GET"),
            ("/albums/{albumId}/photos/{photoId}/complete", "POST"),
            ("/albums/{albumId}/photos/{photoId}/not-duplicate", "POST"),
        )
    },
    # FaceFlow people (issue 12): the people API function, in the FaceFlow image.
    **{
        (path, method): "AlbumPeopleApiFunction"
        for path, method in (
            ("/albums/{albumId}/clusters", "GET"),
            ("/albums/{albumId}/clusters/{clusterId}/label", "POST"),
            ("/albums/{albumId}/clusters/merge", "POST"),
            ("/albums/{albumId}/clusters/{clusterId}/split", "POST"),
            ("/albums/{albumId}/clusters/{clusterId}/suggestions", "GET"),
            ("/albums/{albumId}/clusters/recluster", "POST"),
            ("/albums/{albumId}/edits", "GET"),
            ("/albums/{albumId}/edits/undo", "POST"),
        )
    },
    # FaceFlow sharing (issue 13): the share API function, in the FaceFlow image.
    **{
        (path, method): "SharesApiFunction"
        for path, method in (
            ("/albums/{albumId}/share", "POST"),
            ("/albums/{albumId}/share/preview", "POST"),
            ("/albums/{albumId}/shares", "GET"),
            ("/shares/{shareId}", "GET"),
            ("/shares/{shareId}", "DELETE"),
        )
    },
}


# POSTs that are actions without a body (people_api's `bodyless`).
BODYLESS = {
    "/albums/{albumId}/edits/undo",
    "/albums/{albumId}/clusters/recluster",
    "/albums/{albumId}/photos/{photoId}/not-duplicate",
}


def _paths(synth) -> dict[str, str]:
    """Resource logical id → full path."""
    resources = synth.resources("Api", "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def _methods(synth) -> dict[tuple[str, str], dict]:
    paths = _paths(synth)
    methods = {}
    for method in synth.resources("Api", "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        methods[(path, props["HttpMethod"])] = props
    return methods


def test_exactly_the_documented_routes_plus_cors_preflight(synth):
    methods = _methods(synth)
    assert {k for k in methods if k[1] != "OPTIONS"} == set(ROUTES)
    for path, _ in ROUTES:
        assert (path, "OPTIONS") in methods


def test_every_method_but_preflight_requires_a_cognito_token(synth):
    (authorizer_id,) = synth.resources("Api", "AWS::ApiGateway::Authorizer")
    for (path, verb), props in _methods(synth).items():
        if verb == "OPTIONS":
            assert props["AuthorizationType"] == "NONE"
            continue
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (path, verb)
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, (path, verb)


def test_authorizer_trusts_the_user_pool(synth):
    (authorizer,) = synth.resources("Api", "AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    (provider,) = authorizer["Properties"]["ProviderARNs"]
    assert "UserPool" in provider["Fn::ImportValue"]


@pytest.mark.parametrize(("path", "verb"), sorted(ROUTES))
def test_proxy_integration_to_the_documented_function(synth, path, verb):
    props = _methods(synth)[(path, verb)]
    integration = props["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    uri = str(integration["Uri"])
    assert f"{ROUTES[(path, verb)]}" in uri
    validators = synth.resources("Api", "AWS::ApiGateway::RequestValidator")
    validator = validators[props["RequestValidatorId"]["Ref"]]["Properties"]
    if verb == "POST" and path not in BODYLESS:
        assert validator["ValidateRequestBody"] is True
        assert "application/json" in props["RequestModels"]
    elif verb == "POST":  # an action without a body: nothing for the gateway to validate
        assert not validator.get("ValidateRequestBody") and "RequestModels" not in props
    for param in (p[1:-1] for p in path.split("/") if p.startswith("{")):
        assert props["RequestParameters"][f"method.request.path.{param}"] is True


def test_invoke_permissions_live_in_the_api_stack(synth):
    permissions = synth.resources("Api", "AWS::Lambda::Permission")
    assert len(permissions) == len(ROUTES)
    for permission in permissions.values():
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert not synth.resources("Functions", "AWS::ApiGateway::RestApi")


def test_stage_logs_traces_and_throttles(synth):
    (stage,) = synth.resources("Api", "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "prod"
    assert props["TracingEnabled"] is True
    assert props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0].startswith("AccessLogs")
    assert props["AccessLogSetting"]["Format"].startswith("{")  # JSON lines
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 50
    assert settings["ThrottlingBurstLimit"] == 100
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    (plan,) = synth.resources("Api", "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 100, "RateLimit": 50}


def test_gateway_errors_use_the_api_error_shape_with_cors(synth):
    responses = synth.resources("Api", "AWS::ApiGateway::GatewayResponse")
    types = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
    assert set(types) == {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "THROTTLED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    for props in types.values():
        template = props["ResponseTemplates"]["application/json"]
        assert template.startswith('{"error": {"code": "$context.error.responseType"')
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert "Authorization" in headers["gatewayresponse.header.Access-Control-Allow-Headers"]
    # The stage's throttle refills every second (docs/openapi.json: every 429 has Retry-After).
    assert types["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_outputs_for_clients(synth):
    outputs = synth.template_json("Api")["Outputs"]
    assert {"ApiUrl", "Region"} <= set(outputs)
    assert outputs["Region"]["Value"] == "us-west-2"
