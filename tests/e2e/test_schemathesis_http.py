"""schemathesis over HTTP against the local runtime (what `make up` serves), as a signed-up user
of it: every documented operation with every check (examples, coverage and fuzzing phases), then
the stateful phase, which follows the links between operations (create an album, then list,
upload into, inspect and delete it…) and runs the stateful checks (use after free, resource
availability, ignored auth).

Derandomized, no example database: CI runs exactly the cases a developer runs (explore with
other seeds by hand: `--hypothesis-seed`). In process, the same document is checked by
tests/integration/api/test_api_schemathesis.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from local.client import User

# serial: under pytest-xdist, schemathesis' parametrized cases would not all run (Makefile).
pytestmark = [pytest.mark.e2e, pytest.mark.serial]

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
OPERATIONS = json.loads(DOCUMENT.read_text())["paths"]
# What the API documents as refusals of a bad request besides schemathesis' defaults: a body
# past the API's 16 KiB is a 413 (docs/api.md), whatever else is wrong with it.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "5xx"]}}}
RULES = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def caller(backend) -> User:
    """A user of the local runtime (its sign-up, its Cognito token) who agreed to the terms."""
    user = User.sign_up(backend)
    user.agree()
    return user


def excluded(case) -> list:
    """Checks that do not apply to this case (as in process). A nextToken is opaque: one no
    listing handed out is refused (400 INVALID_TOKEN, documented), so an invented one is not
    "positive data". API Gateway ignores query parameters a method does not declare, and so do
    the functions: a request whose only fault is an undeclared parameter is not refused."""
    skipped = [positive_data_acceptance] if (case.query or {}).get("nextToken") else []
    operation = OPERATIONS.get(case.path, {}).get(case.method.lower(), {})
    declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if set(case.query or {}) - declared:
        skipped.append(negative_data_rejection)
    # The caller's token is always sent (as_caller): a case made "negative" by leaving
    # Authorization out is a valid request here, whatever else it mutated.
    if "Authorization" not in (case.headers or {}):
        skipped.append(negative_data_rejection)
    return skipped


schema = schemathesis.openapi.from_path(DOCUMENT, config=SchemathesisConfig.from_dict(CONFIG))


def as_caller(case, caller: User) -> dict:
    """The case as `caller` sends it: their `{userId}` (anyone else's is a 403 that tests
    nothing further; assigned, so schemathesis revalidates what the case is), and the call's
    base URL and token."""
    if "userId" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "userId": caller.sub}
    return {"base_url": caller.api_url, "headers": {"Authorization": caller.token}}


@schema.parametrize()
@settings(RULES, max_examples=25)
def test_each_operation_over_http(case, caller):
    case.call_and_validate(**as_caller(case, caller), excluded_checks=excluded(case))


def test_stateful_links_over_http(caller):
    class Scenarios(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return as_caller(case, caller)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=excluded(case),
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    run_state_machine_as_test(
        Scenarios, settings=settings(RULES, max_examples=150, stateful_step_count=12)
    )
