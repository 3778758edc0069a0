"""What every stack is built from, in one place: components, the project's function, table,
bucket and dead-letter queue, the layers, IAM helpers and asset bundling.

A new stack subclasses `ProjectStack` and composes these (docs/architecture.md, "Code layout").
"""

from stacks.shared.bundling import FACE_MODELS_DIR, container_source
from stacks.shared.component import Component, ProjectStack
from stacks.shared.function import DeadLetterQueue, ProjectFunction
from stacks.shared.iam import index_arn, object_arns, prefix_condition
from stacks.shared.layers import ImagingLayer, SharedLayer
from stacks.shared.storage import (
    AccessLogBucket,
    ProjectKey,
    ProjectLogGroup,
    ProjectTable,
    SecureBucket,
    StackKey,
)

__all__ = [
    "FACE_MODELS_DIR",
    "AccessLogBucket",
    "Component",
    "DeadLetterQueue",
    "ImagingLayer",
    "ProjectFunction",
    "ProjectKey",
    "ProjectLogGroup",
    "ProjectStack",
    "ProjectTable",
    "SecureBucket",
    "SharedLayer",
    "StackKey",
    "container_source",
    "index_arn",
    "object_arns",
    "prefix_condition",
]
