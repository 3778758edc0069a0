"""EventBridge "CodeBuild Build State Change" → operators' topic + a CloudWatch metric (EMF)."""

from __future__ import annotations

from typing import Any

from style_backend import builds, config, logs
from style_backend.config import EnvVar

log = logs.get_logger("build_events")


def handler(event: dict[str, Any], context: Any = None) -> None:
    try:
        change = builds.StateChange.from_event(event)
    except ValueError as err:
        log.warning("dropped: %s", err)
        return
    print(change.metric_line(), flush=True)  # EMF: CloudWatch turns this line into the metric
    builds.notify_operators(config.get(EnvVar.OPERATIONS_TOPIC_ARN), change)
    log.info("build state recorded", extra={"buildId": change.build_id, "status": change.status})
