"""stacks/delivery: the GitHub OIDC provider and the deploy role that may only assume the CDK
bootstrap roles; cdk-nag clean; in the app only when a repository is configured."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from stacks.settings import Settings

ACCOUNT, REGION = "123456789012", "eu-central-1"
ISSUER = "token.actions.githubusercontent.com"


def _synth(tmp_path, **settings):
    from stacks.delivery import DeliveryStack
    from stacks.nag import add_checks

    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:validationReportJson": True})
    stack = DeliveryStack(
        app,
        "Delivery",
        settings=Settings(github_repository="acme/style-backend", **settings),
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )
    add_checks(app)
    app.synth()  # raises on an unacknowledged cdk-nag finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
    return json.loads((tmp_path / f"{stack.artifact_id}.template.json").read_text()), findings


def _only(template: dict, resource_type: str) -> dict:
    found = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    assert len(found) == 1, found
    return found[0]["Properties"]


def test_the_stack_is_cdk_nag_clean_with_no_acknowledgement(tmp_path):
    template, findings = _synth(tmp_path)
    assert findings == []
    assert "cdk_nag" not in json.dumps(template.get("Metadata", {}))


def test_the_provider_is_github_for_sts_with_no_custom_resource(tmp_path):
    template, _ = _synth(tmp_path)
    provider = _only(template, "AWS::IAM::OIDCProvider")
    assert provider["Url"] == f"https://{ISSUER}"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]
    assert {r["Type"] for r in template["Resources"].values()} == {
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::Role",
    }


def test_only_the_repositorys_environment_jobs_may_assume_the_role(tmp_path):
    template, _ = _synth(tmp_path, github_deploy_environments="dev, prod")
    (trust,) = _only(template, "AWS::IAM::Role")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {"Federated": {"Ref": next(iter(_ids(template, "OIDC")))}}
    assert trust["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:aud": "sts.amazonaws.com",
            f"{ISSUER}:sub": [
                "repo:acme/style-backend:environment:dev",
                "repo:acme/style-backend:environment:prod",
            ],
        }
    }


def test_the_role_may_assume_the_four_bootstrap_roles_and_nothing_else(tmp_path):
    template, _ = _synth(tmp_path, cdk_bootstrap_qualifier="abc123")
    role = _only(template, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role
    assert role["MaxSessionDuration"] == 3600
    assert not _ids(template, "AWS::IAM::Policy")  # no policy attached from elsewhere
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    resources = sorted(_text(r) for r in statement["Resource"])
    assert resources == sorted(
        f"arn:<AWS::Partition>:iam::{ACCOUNT}:role/cdk-abc123-{kind}-role-{ACCOUNT}-{REGION}"
        for kind in ("deploy", "file-publishing", "image-publishing", "lookup")
    )


def test_an_existing_provider_is_reused_not_created(tmp_path):
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
    template, findings = _synth(tmp_path, github_oidc_provider_arn=arn)
    assert findings == []
    assert not _ids(template, "AWS::IAM::OIDCProvider")
    (trust,) = _only(template, "AWS::IAM::Role")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": arn}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("github_repository", "style-backend"),
        ("github_repository", "acme/style backend"),
        ("github_deploy_environments", " , "),
        ("cdk_bootstrap_qualifier", "Not-Valid"),
    ],
)
def test_bad_delivery_settings_name_their_key(key, value):
    context = {"github_repository": "acme/style-backend", key: value}
    with pytest.raises(ValueError, match=key):
        Settings.from_context(cdk.App(context=context))


def test_the_app_holds_the_stack_only_when_a_repository_is_configured():
    from app import build_app

    def stacks(**context):
        app = build_app(cdk.App(context={"aws:cdk:bundling-stacks": [], **context}))
        return {c.node.id: c for c in app.node.children if isinstance(c, cdk.Stack)}

    assert "Delivery" not in stacks()
    delivery = stacks(github_repository="acme/style-backend", project_name="shop")["Delivery"]
    assert delivery.stack_name == "shop-delivery"
    assert delivery.role.node.default_child.role_name == "shop-github-deploy"


def _ids(template: dict, resource_type: str) -> list[str]:
    return [k for k, r in template["Resources"].items() if resource_type in r["Type"]]


def _text(value: object) -> str:
    """An ARN as the template writes it (Fn::Join of strings and pseudo parameters)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return separator.join(_text(p) for p in parts)
