"""EventBridge "CodeBuild Build State Change" → operators' topic + a CloudWatch metric (EMF)."""

from __future__ import annotations

from typing import Any

from common import observability
from common.observability import logger as log
from style_backend import builds, config
from style_backend.config import EnvVar


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    try:
        change = builds.StateChange.from_event(event)
    except ValueError as err:
        log.warning("dropped: %s", err)
        return
    observability.count(change.metric_name(), Project=change.project)  # EMF
    builds.notify_operators(config.get(EnvVar.OPERATIONS_TOPIC_ARN), change)
    log.info("build state recorded", extra={"buildId": change.build_id, "status": change.status})
