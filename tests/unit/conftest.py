"""The synthesized app, shared by every stack test: jsii start-up and synth cost seconds, so the
app is synthesized once per session (bundling skipped) and each test reads its templates."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_CONTEXT = {
    # Unit tests never bundle (no pip, no copying); the slow test does.
    "aws:cdk:bundling-stacks": [],
    # cdk-nag's findings as JSON next to the templates.
    "@aws-cdk/core:validationReportJson": True,
}


def project_context(**overrides: Any) -> dict[str, Any]:
    """Only what differs from the project: build_app itself applies cdk.json's feature flags and
    cdk.context.json for keys the caller did not set, exactly as for the CLI."""
    return dict(overrides)


@dataclass
class SynthesizedApp:
    outdir: Path
    error: Exception | None
    stack_ids: list[str]
    _templates: dict[str, dict] = field(default_factory=dict)

    def template_json(self, stack_id: str) -> dict:
        if stack_id not in self._templates:
            path = self.outdir / f"{stack_id}.template.json"
            self._templates[stack_id] = json.loads(path.read_text())
        return self._templates[stack_id]

    def template(self, stack_id: str):
        from aws_cdk.assertions import Template

        return Template.from_json(self.template_json(stack_id))

    def resources(self, stack_id: str, resource_type: str) -> dict[str, dict]:
        return {
            logical_id: resource
            for logical_id, resource in self.template_json(stack_id)["Resources"].items()
            if resource["Type"] == resource_type
        }

    @property
    def validation_report(self) -> dict:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(outdir: Path, context: dict[str, Any]) -> SynthesizedApp:
    import aws_cdk as cdk

    sys.path.insert(0, str(REPO_ROOT))
    from app import build_app

    app = cdk.App(outdir=str(outdir), context=context)
    build_app(app)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings: templates are written, the report says why
        error = exc
    stack_ids = [c.node.id for c in app.node.children if isinstance(c, cdk.Stack)]
    return SynthesizedApp(outdir=outdir, error=error, stack_ids=stack_ids)


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> SynthesizedApp:
    """The app as cdk.context.json configures it."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"), project_context(**BASE_CONTEXT))


# Every optional setting switched the other way, to prove the stacks read the context.
OVERRIDES = {
    "endpoint_instance_type": "ml.g4dn.2xlarge",
    "endpoint_max_instances": 5,
    "cognito_domain_prefix": "style-test-login",
    "cognito_user_password_auth": True,
    "alarm_email": "ops@example.com",
    "removal_policy": "destroy",
    "s3_base_bucket_name": "style-test-base-bucket",
    "process_ttl_days": 7,
    "project_name": "styletest",
    "share_signing_key_generations": "1,2",  # a key rotation in progress
}


@pytest.fixture(scope="session")
def synth_overridden(tmp_path_factory) -> SynthesizedApp:
    context = project_context(**BASE_CONTEXT, **OVERRIDES)
    return synthesize(tmp_path_factory.mktemp("cdk.out.overridden"), context)


def render(value: Any) -> str:
    """A CloudFormation value as readable text: imports by name, refs as <LogicalId>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue":
            return f"import:{render(arg)}"
        if fn == "Fn::Join":
            return render(arg[0]).join(render(p) for p in arg[1])
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
    return json.dumps(value, sort_keys=True)


def statements(policy_document: dict) -> list[dict]:
    found = policy_document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
