"""Who may call what: the Cognito authorizer emulation, and the `{userId}` = `sub` rule."""

import pytest

from style_backend.edge.api.routes import routes
from tests.integration.api.conftest import new_user
from tests.tokens import stranger_key

ROUTES = routes()


def _concrete(path: str, user: str) -> str:
    return path.replace("{userId}", user).replace("{processId}", "p-1")


def _bad_tokens(pool, user):
    return {
        "expired": pool.mint(user, expires_in=-5),
        "forged": pool.mint(user, signing_key=stranger_key()),
        "unknown kid": pool.mint(user, signing_key=stranger_key("other-kid")),
        "other app client": pool.mint(user, client_id="someone-elses-client"),
        "other access client": pool.mint(user, "access", client_id="someone-elses-client"),
        "other pool": pool.mint(user, issuer="https://cognito-idp.us-west-2.amazonaws.com/x_Y"),
        "not a cognito token use": pool.mint(user, token_use="refresh"),
        "garbage": "not.a.jwt",
        "tampered": pool.mint(user)[:-4] + "AAAA",
    }


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_refuses_a_missing_token(api, route):
    user = new_user()
    reply = api.call(route.method, _concrete(route.path, user))
    assert (reply.status, reply.error_code) == (401, "UNAUTHORIZED")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"  # the browser can read it


def test_bad_tokens_are_refused_on_every_route(api, pool):
    user = new_user()
    for name, token in _bad_tokens(pool, user).items():
        for route in ROUTES:
            reply = api.call(route.method, _concrete(route.path, user), token=token)
            assert reply.status == 401, f"{name} on {route.method} {route.path}"


def test_id_and_access_tokens_are_both_accepted(api, pool):
    user = new_user()
    for token in (pool.mint(user, "id"), pool.mint(user, "access")):
        assert api.call("GET", "/agree", token=token).status == 200
        assert api.call("GET", "/agree", token="Bearer " + token).status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/apis/images/{userId}"),
        ("GET", "/apis/images/{userId}/processes/{processId}"),
        ("DELETE", "/apis/images/{userId}"),
    ],
)
def test_user_b_on_user_a_paths_is_forbidden(api, method, path):
    alice, bob = new_user(), new_user()
    reply = api.call(method, _concrete(path, alice), user=bob)
    assert (reply.status, reply.error_code) == (403, "FORBIDDEN")


def test_every_route_with_a_user_in_its_path_is_covered_by_the_idor_test():
    with_user = {(r.method, r.path) for r in ROUTES if "{userId}" in r.path}
    assert with_user == {
        ("GET", "/apis/images/{userId}"),
        ("GET", "/apis/images/{userId}/processes/{processId}"),
        ("DELETE", "/apis/images/{userId}"),
    }


def test_unknown_routes_and_methods_answer_like_api_gateway(api):
    user = new_user()
    for method, path in [("GET", "/nope"), ("PUT", "/agree"), ("GET", "/apis/images/upload")]:
        reply = api.call(method, path, user)
        assert (reply.status, reply.error_code) == (403, "MISSING_AUTHENTICATION_TOKEN")


def test_cors_preflight_needs_no_token(api):
    reply = api.call("OPTIONS", "/apis/images/some-user")
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Methods"] == "DELETE,GET,OPTIONS"
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_handlers_refuse_events_without_authorizer_claims(aws, route):
    """Defence in depth: a route deployed without the authorizer still answers 401."""
    from local.apigw import load_handler, to_proxy_event

    user = new_user()
    params = {"userId": user, "processId": "p-1"} if "{" in route.path else None
    event = to_proxy_event(
        route.method,
        _concrete(route.path, user),
        {"Content-Type": "application/json"},
        body="{}",
        path_params=params,
        resource=route.path,
    )
    reply = load_handler(route.handler)(event, None)
    assert reply["statusCode"] == 401
