"""The FaceChain image build: what a build's state means to the deploy and to operators.

The deploy starts exactly one CodeBuild build per image tag (the source hash) and waits on *that*
build id — never on "the latest build" of the project, which another deploy may have started.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

IMAGE_TAG_VARIABLE = "IMAGE_TAG"
STATE_CHANGE = "CodeBuild Build State Change"  # the EventBridge detail-type


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


def completion(build: Build) -> dict[str, Any]:
    """One isComplete answer: not done yet, done (with data), or BuildFailed with the log link."""
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
    def from_detail(cls, detail_type: Any, detail: Any) -> StateChange:
        """A "CodeBuild Build State Change" from its detail-type and detail (ValueError if the
        event is not one)."""
        if detail_type != STATE_CHANGE:
            raise ValueError(f"not a CodeBuild state change: {detail_type!r}")
        detail = detail if isinstance(detail, Mapping) else {}
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
