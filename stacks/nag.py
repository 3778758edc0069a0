"""cdk-nag (3.x, a CDK validation plugin): the rule pack and the one way we acknowledge findings.

Every acknowledgement names one finding and carries the reason it is acceptable; there is no
blanket suppression.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """`finding` is a rule id (`AwsSolutions-S1`) or one finding of it (`AwsSolutions-IAM5[…]`)."""
    if len(reason) < 20:
        raise ValueError(f"{finding}: give a specific reason, not {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


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
