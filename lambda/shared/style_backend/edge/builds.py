"""The FaceChain image build's custom resource (onEvent starts the build, isComplete polls it)
and its EventBridge state changes (to the operators' topic and a CloudWatch metric).

The physical id is the build id, so isComplete waits on exactly the build onEvent started. An
update keeping the tag (and project) starts nothing: it keeps the id of the build that made it. A
failed build raises, which fails the deployment with the build's log link; the Provider's total
timeout bounds the wait.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from common import observability
from common.observability import logger as log
from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain.builds import StateChange, completion
from style_backend.storage import builds


def on_event(event: dict[str, Any]) -> dict[str, Any]:
    """Custom resource onEvent: start the image build of the requested tag."""
    request = event["RequestType"]
    props = event.get("ResourceProperties", {})
    if request == "Delete":
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    project, tag = props["ProjectName"], props["ImageTag"]
    old = event.get("OldResourceProperties") or {}
    if request == "Update" and (old.get("ProjectName"), old.get("ImageTag")) == (project, tag):
        log.info("image tag unchanged: no build", extra={"imageTag": tag})
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    build_id = builds.start_image_build(project, tag)
    log.info("image build started", extra={"buildId": build_id, "imageTag": tag})
    return {"PhysicalResourceId": build_id, "Data": {"BuildId": build_id, "ImageTag": tag}}


def is_complete(event: dict[str, Any]) -> dict[str, Any]:
    """Custom resource isComplete: one poll of the build onEvent started."""
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    build_id = event["PhysicalResourceId"]
    result = completion(builds.get_build(build_id))
    log.info("build polled", extra={"buildId": build_id, "complete": result["IsComplete"]})
    return result


def state_change(event: dict[str, Any]) -> StateChange:
    """Parse an EventBridge "CodeBuild Build State Change" event (ValueError if not one)."""
    change = EventBridgeEvent(event)
    return StateChange.from_detail(change.get("detail-type"), change.get("detail"))


def record_state_change(event: dict[str, Any]) -> None:
    """A build's state change → the operators' topic + a CloudWatch metric (EMF)."""
    try:
        change = state_change(event)
    except ValueError as err:
        log.warning("dropped: %s", err)
        return
    observability.count(change.metric_name(), Project=change.project)  # EMF
    builds.notify_operators(config.get(EnvVar.OPERATIONS_TOPIC_ARN), change)
    log.info("build state recorded", extra={"buildId": change.build_id, "status": change.status})
