"""Custom resource isComplete: poll the build that onEvent started (its id is the physical id).

A failed build raises, which fails the deployment with the build's log link; the Provider's total
timeout bounds the wait (style_backend.edge.builds).
"""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import builds


@observability.lambda_entry()
def is_complete(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return builds.is_complete(event)
