"""The two scanners' exceptions, in one place: cdk-nag (3.x, a CDK validation plugin, run on every
synth) and checkov (`make iac-scan`, over cdk.out in CI).

Every acknowledgement (cdk-nag) and every skip (checkov) names one check and carries the reason it
is acceptable; there is no blanket suppression. A skip is resource metadata in the template
(`{"checkov": {"skip": [{"id", "comment"}]}}`), so the reason travels with the resource.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
import jsii
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_CHECKOV_ID = re.compile(r"CKV2?_AWS_[0-9]+")


# CDK's own deploy-time functions (a custom resource Provider's framework, the S3
# BucketNotificationsHandler): what checkov asks of a function does not apply to them.
CDK_FUNCTION_SKIPS = {
    "CKV_AWS_115": "CDK's deploy-time helper: CloudFormation invokes it a few times per deploy; "
    "reserving concurrency for it would only take from the account's pool.",
    "CKV_AWS_116": "CDK's deploy-time helper, invoked synchronously by CloudFormation (or the "
    "Provider's state machine), which reports a failure as a failed deploy: no async events.",
    "CKV_AWS_117": "CDK's deploy-time helper: it calls AWS APIs only (CloudFormation, S3 "
    "notification configuration, Lambda) and nothing in a VPC.",
    "CKV_AWS_173": "CDK's deploy-time helper: its environment holds function ARNs and flags "
    "set by CDK, never a secret; Lambda encrypts it at rest with its own key.",
}
# CDK's singleton that writes S3 notification configurations, one per stack that adds any.
_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    cdk.Aspects.of(app).add(_SkipNotificationsHandlers())


@jsii.implements(cdk.IAspect)
class _SkipNotificationsHandlers:
    """Every stack's BucketNotificationsHandler gets CDK_FUNCTION_SKIPS, wherever it appears."""

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, cdk.CfnResource)
            and node.cfn_resource_type == "AWS::Lambda::Function"
            and node.node.scope is not None
            and node.node.scope.node.id == _NOTIFICATIONS_HANDLER
        ):
            for check, reason in CDK_FUNCTION_SKIPS.items():
                skip_checkov(node, check, reason)


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """`finding` is a rule id (`AwsSolutions-S1`) or one finding of it (`AwsSolutions-IAM5[…]`)."""
    if len(reason) < 20:
        raise ValueError(f"{finding}: give a specific reason, not {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def skip_checkov(scope: IConstruct, check: str, reason: str) -> None:
    """Skips checkov's `check` (`CKV_AWS_117`) on `scope`'s CloudFormation resource: `scope` itself
    if it is one, else its default child, followed down (an L2 construct's `Resource`, a
    component's `Default`). Repeated calls add up; the same check twice keeps the last reason."""
    if not _CHECKOV_ID.fullmatch(check):
        raise ValueError(f"{check!r} is not a checkov AWS check id (CKV_AWS_<n>)")
    if len(reason) < 20:
        raise ValueError(f"{check}: give a specific reason, not {reason!r}")
    resource = scope
    while resource is not None and not isinstance(resource, cdk.CfnResource):
        resource = resource.node.default_child
    if resource is None:
        raise ValueError(f"{scope.node.path}: no CloudFormation resource to skip {check} on")
    skips = [s for s in checkov_skips(resource) if s["id"] != check]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": reason}]})


def checkov_skips(resource: cdk.CfnResource) -> list[dict[str, str]]:
    """The checkov skips written on `resource` so far (`[{"id", "comment"}]`)."""
    return list((resource.get_metadata("checkov") or {}).get("skip", []))


def rendered(scope: IConstruct, value: str) -> str:
    """`value` (an ARN with tokens) as cdk-nag writes it in a finding id.

    cdk-nag renders `{"Ref": "AWS::Partition"}` as `<AWS::Partition>`, a logical id reference as
    `<LogicalId>`, `Fn::GetAtt` as `<LogicalId.Attr>`, an import as its export name.
    """
    return _render(cdk.Stack.of(scope).resolve(value))


def acknowledge_wildcards(scope: IConstruct, resources: list[str], reason: str) -> None:
    """Acknowledges IAM5 for exactly these resources (each one, only if it has a wildcard)."""
    for resource in resources:
        text = rendered(scope, resource)
        if "*" in text:
            acknowledge(scope, f"AwsSolutions-IAM5[Resource::{text}]", reason)


def _render(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::ImportValue":
            return _render(arg)
        if fn == "Fn::Join":
            return _render(arg[0]).join(_render(part) for part in arg[1])
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding")
