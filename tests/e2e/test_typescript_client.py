"""The typed client, as apps use the package: the page's bundle driven from Node against the
local backend; answers come back typed, refusals as ApiErrors with the API's code and status."""

from __future__ import annotations

import json
import shutil

import pytest

from local import seed
from local.client import User
from tests.typescript import ROOT, built_web_bundle, node, run

pytestmark = pytest.mark.e2e


def test_the_client_calls_every_kind_of_route_and_raises_the_apis_errors(backend, tmp_path):
    bundle = tmp_path / "client.mjs"  # an ES module by name: Node needs no package.json for it
    shutil.copyfile(built_web_bundle(), bundle)
    user = User.sign_up(backend)
    result = run(
        node(),
        str(ROOT / "tests/e2e/client_probe.mjs"),
        str(bundle),
        user.api_url,
        user.token,
        user.sub,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    assert out["before"]["agreed"] is False
    assert out["accepted"]["termsVersion"] == out["before"]["termsVersion"]
    assert out["after"]["agreed"] is True
    assert sorted(out["styles"]) == sorted(s.resource_id for s in seed.STYLES)
    assert out["results"]["items"] == []
    refusals = {
        key: (out[key]["apiError"], out[key]["status"], out[key]["code"])
        for key in ("wrongVersion", "otherUsersResults", "badUpload", "unknownProcess", "anonymous")
    }
    assert refusals == {
        "wrongVersion": (True, 409, "TERMS_VERSION_MISMATCH"),
        "otherUsersResults": (True, 403, "FORBIDDEN"),
        "badUpload": (True, 415, "UNSUPPORTED_MEDIA_TYPE"),
        "unknownProcess": (True, 404, "NOT_FOUND"),
        "anonymous": (True, 401, "UNAUTHORIZED"),  # the gateway's answer, not a function's
    }
    assert out["wrongVersion"]["message"].endswith("(TERMS_VERSION_MISMATCH)")
