"""Custom resource onEvent: start the FaceChain image build for the requested image tag.

The physical id is the build id, so the status checker (isComplete) waits on exactly this build.
An update keeping the tag (and project) starts nothing: it keeps the id of the build that made it.
"""

from __future__ import annotations

from typing import Any

from common import observability
from common.observability import logger as log
from style_backend import builds


@observability.lambda_entry()
def on_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
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
