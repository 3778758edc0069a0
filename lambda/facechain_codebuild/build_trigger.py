"""Custom resource onEvent: start the FaceChain image build for the requested image tag.

The physical id is the build id, so the status checker (isComplete) waits on exactly this build.
An update keeping the tag (and project) starts nothing: it keeps the id of the build that made it
(style_backend.edge.builds).
"""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import builds


@observability.lambda_entry()
def on_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return builds.on_event(event)
