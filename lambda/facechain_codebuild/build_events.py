"""EventBridge "CodeBuild Build State Change" → operators' topic + a CloudWatch metric (EMF)
(style_backend.edge.builds)."""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import builds


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    builds.record_state_change(event)
