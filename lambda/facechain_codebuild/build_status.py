"""Custom resource isComplete: poll the build that onEvent started (its id is the physical id).

A failed build raises, which fails the deployment with the build's log link; the Provider's total
timeout bounds the wait.
"""

from __future__ import annotations

from typing import Any

from common import observability
from common.observability import logger as log
from style_backend import builds


@observability.lambda_entry()
def is_complete(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    build_id = event["PhysicalResourceId"]
    result = builds.wait_result(build_id)
    log.info("build polled", extra={"buildId": build_id, "complete": result["IsComplete"]})
    return result
