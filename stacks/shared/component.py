"""Components: constructs that group a stack's resources for the reader, not for CloudFormation.

A stack is composed of components (a pipeline function with its role, trigger and dead-letter
queue; the REST API with its access logs; the async endpoint), each a `Component` subclass. A
`ProjectStack` allocates the logical id of every resource from its construct path WITHOUT the
components on it, so grouping resources into components (or regrouping them later) never renames,
and so never replaces, a deployed resource. Two rules follow:

- A component's child named `Default` (CDK's name for "the resource this construct is") takes the
  component's place: `FaceCropFunction/Default` is the logical id `FaceCropFunction…`, and CDK's
  own path-derived names (`Names.node_unique_id`, used for permission ids) stay those of a
  function created straight in the stack.
- Other children are named for their stack (`FaceCropFunctionRole`, not `Role`): two resources
  with the same name anywhere in one stack would get the same logical id (CDK then refuses to
  synthesize).
"""

from __future__ import annotations

import hashlib
import re

import aws_cdk as cdk
from constructs import Construct, IConstruct

# CDK's own logical-id scheme (aws-cdk-lib core `makeUniqueId`): `Default` is left out of both the
# human part and the hash, `Resource` out of the human part; a single component is used as is.
_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"
_MAX_HUMAN_LENGTH = 240
_MAX_ID_LENGTH = 255


class Component(Construct):
    """A group of resources one reader looks for; transparent to logical ids (see module doc)."""


class ProjectStack(cdk.Stack):
    """Every stack of the project: components on a resource's path do not change its logical id."""

    def _allocate_logical_id(self, cfn_element: cdk.CfnElement) -> str:
        return logical_id(path_components(self, cfn_element))


def path_components(stack: cdk.Stack, element: IConstruct) -> list[str]:
    """The construct ids from `stack` (exclusive) down to `element`, components left out unless
    the path goes on through their `Default` child."""
    scopes = element.node.scopes
    below = scopes[scopes.index(stack) + 1 :]
    return [
        scope.node.id
        for scope, child in zip(below, [*below[1:], None], strict=True)
        if not isinstance(scope, Component) or (child is not None and child.node.id == _HIDDEN)
    ]


def logical_id(components: list[str]) -> str:
    """The logical id CDK gives a resource at this construct path."""
    components = [c for c in components if c != _HIDDEN]
    if not components:
        raise ValueError("a logical id needs at least one path component")
    if len(components) == 1:
        candidate = _alphanumeric(components[0])
        if len(candidate) <= _MAX_ID_LENGTH:
            return candidate
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()
    human = "".join(
        _alphanumeric(c) for c in _without_repeats(components) if c != _HIDDEN_FROM_HUMAN
    )
    return human[:_MAX_HUMAN_LENGTH] + digest[:8].upper()


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _without_repeats(components: list[str]) -> list[str]:
    """CDK drops a component the previous one ends with (`Bucket/Bucket` reads `Bucket`)."""
    kept: list[str] = []
    for component in components:
        if not kept or not kept[-1].endswith(component):
            kept.append(component)
    return kept
