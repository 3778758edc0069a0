"""CodeBuild and the operators' topic: start the FaceChain image build, read a build's state,
publish a state change (style_backend.domain.builds)."""

from __future__ import annotations

from common import aws
from style_backend.domain.builds import IMAGE_TAG_VARIABLE, Build, BuildFailed, StateChange


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


def notify_operators(topic_arn: str, change: StateChange) -> None:
    aws.client("sns").publish(
        TopicArn=topic_arn, Subject=change.subject(), Message=change.message()
    )
