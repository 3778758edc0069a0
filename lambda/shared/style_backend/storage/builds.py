"""The FaceChain image build: start it, wait on it, tell operators about it.

The deploy starts exactly one CodeBuild build per image tag (the source hash) and waits on *that*
build id — never on "the latest build" of the project, which another deploy may have started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from common import aws

IMAGE_TAG_VARIABLE = "IMAGE_TAG"


class BuildFailed(RuntimeError):
    """The build ended without an image; the message carries the build's log link."""


@dataclass(frozen=True)
class Build:
    build_id: str
    status: str  # IN_PROGRESS | SUCCEEDED | FAILED | FAULT | STOPPED | TIMED_OUT
    phase: str
    log_link: str

    @property
    def done(self) -> bool:
        return self.status != "IN_PROGRESS"


def start_image_build(project_name: str, image_tag: str) -> str:
    """Start a build of `image_tag`; returns the build id."""
    response = aws.client("codebuild").start_build(
        projectName=project_name,
        environmentVariablesOverride=[
            {"name": IMAGE_TAG_VARIABLE, "value": image_tag, "type": "PLAINTEXT"}
        ],
    )
    return response["build"]["id"]


def get_build(build_id: str) -> Build:
    response = aws.client("codebuild").batch_get_builds(ids=[build_id])
    if not response.get("builds"):
        raise BuildFailed(f"build {build_id} not found")
    build = response["builds"][0]
    return Build(
        build_id=build["id"],
        status=build.get("buildStatus", "IN_PROGRESS"),
        phase=build.get("currentPhase", ""),
        log_link=build.get("logs", {}).get("deepLink", ""),
    )


def wait_result(build_id: str) -> dict[str, Any]:
    """One isComplete poll: not done yet, done (with data), or BuildFailed with the log link."""
    build = get_build(build_id)
    if not build.done:
        return {"IsComplete": False}
    if build.status != "SUCCEEDED":  # FAILED, FAULT, STOPPED, TIMED_OUT
        raise BuildFailed(
            f"FaceChain image build {build.build_id} ended {build.status} in phase "
            f"{build.phase or 'unknown'}; logs: {build.log_link or 'not available'}"
        )
    return {"IsComplete": True, "Data": {"BuildId": build.build_id, "BuildStatus": build.status}}


@dataclass(frozen=True)
class StateChange:
    project: str
    build_id: str
    status: str
    log_link: str

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> StateChange:
        """Parse an EventBridge "CodeBuild Build State Change" event (ValueError if not one)."""
        change = EventBridgeEvent(event)
        detail_type = change.get("detail-type")
        if detail_type != "CodeBuild Build State Change":
            raise ValueError(f"not a CodeBuild state change: {detail_type!r}")
        detail = change.detail if isinstance(change.get("detail"), dict) else {}
        info = detail.get("additional-information") or {}
        try:
            return cls(
                project=detail["project-name"],
                build_id=detail["build-id"],
                status=detail["build-status"],
                log_link=(info.get("logs") or {}).get("deep-link", ""),
            )
        except KeyError as missing:
            raise ValueError(f"state change without {missing}") from None

    def subject(self) -> str:
        return f"FaceChain image build {self.status}: {self.project}"[:100]  # SNS subject limit

    def message(self) -> str:
        return json.dumps(
            {
                "project": self.project,
                "buildId": self.build_id,
                "status": self.status,
                "logs": self.log_link,
            }
        )

    def metric_name(self) -> str:
        """BuildSucceeded, BuildStarted or BuildFailed (the CloudWatch metric of this change)."""
        return {"SUCCEEDED": "BuildSucceeded", "IN_PROGRESS": "BuildStarted"}.get(
            self.status, "BuildFailed"
        )


def notify_operators(topic_arn: str, change: StateChange) -> None:
    aws.client("sns").publish(
        TopicArn=topic_arn, Subject=change.subject(), Message=change.message()
    )
