"""Static checks of the serving image's Dockerfile, requirements and buildspec."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

IMAGE_DIR = Path(__file__).resolve().parents[2] / "byoc" / "facechain"


def instructions(dockerfile: Path = IMAGE_DIR / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def only(keyword: str) -> str:
    found = [rest for kw, rest in instructions() if kw == keyword]
    assert len(found) == 1, f"{keyword}: {found}"
    return found[0]


def test_base_image_is_pinned_by_a_tag_that_is_not_latest():
    image = only("FROM").split()[0]
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest" and "/" not in tag, image


def test_entrypoint_and_cmd_are_exec_form_serving_without_downloads():
    assert json.loads(only("ENTRYPOINT")) == ["python", "-m", "facechain_serving"]
    assert json.loads(only("CMD")) == ["serve"]


def test_weights_are_downloaded_at_build_time_before_the_offline_switch():
    steps = instructions()
    download = next(
        i for i, (kw, rest) in enumerate(steps) if kw == "RUN" and "download" in rest.split()
    )
    offline = next(i for i, (kw, rest) in enumerate(steps) if kw == "ENV" and "OFFLINE=1" in rest)
    assert download < offline


def test_runs_as_a_user_that_is_not_root():
    user = [rest for kw, rest in instructions() if kw == "USER"][-1]
    assert user not in ("root", "0") and not user.startswith("0:")


def test_the_image_listens_where_sagemaker_connects():
    """SageMaker reaches the container on 0.0.0.0:8080; the server defaults to 127.0.0.1."""
    env = " ".join(rest for kw, rest in instructions() if kw == "ENV")
    assert "SERVING_HOST=0.0.0.0" in env.split()
    assert "8080" in only("EXPOSE").split()


def test_pythonpath_holds_the_program_directory_with_both_packages():
    env = " ".join(rest for kw, rest in instructions() if kw == "ENV")
    assert "PYTHONPATH=/opt/program" in env
    copies = [rest for kw, rest in instructions() if kw == "COPY"]
    assert any(c.startswith("style_backend/") for c in copies)
    assert any(c.startswith("facekit/") for c in copies)
    assert any(c.startswith("facechain_serving/") for c in copies)


def test_the_engines_model_files_are_in_the_image_where_facekit_looks():
    """YuNet and Face Mesh come with the build source (stacks/shared/bundling.py): nothing is
    downloaded when the endpoint starts."""
    env = " ".join(rest for kw, rest in instructions() if kw == "ENV")
    assert "FACE_MODELS_DIR=/opt/face_models" in env.split()
    copies = [rest for kw, rest in instructions() if kw == "COPY"]
    assert "face_models/ /opt/face_models/" in copies


def requirement_lines() -> list[str]:
    lines = (IMAGE_DIR / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


@pytest.mark.parametrize("line", requirement_lines())
def test_every_requirement_is_pinned_exactly(line):
    assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+\-]*", line), line


def test_the_server_and_the_engines_packages_are_required():
    names = {line.split("==")[0].lower() for line in requirement_lines()}
    assert {"waitress", "modelscope", "dlib-bin", "opencv-python-headless"} <= names


def test_buildspec_logs_in_skips_existing_tags_builds_and_pushes_the_tag():
    spec = yaml.safe_load((IMAGE_DIR / "buildspec.yml").read_text())
    assert str(spec["version"]) == "0.2"
    commands = "\n".join(
        command for phase in spec["phases"].values() for command in phase["commands"]
    )
    assert "aws ecr get-login-password" in commands and "docker login" in commands
    assert "aws ecr describe-images" in commands and '--image-ids imageTag="$IMAGE_TAG"' in commands
    assert 'docker build --pull --tag "$REPOSITORY_URI:$IMAGE_TAG"' in commands
    assert 'docker push "$REPOSITORY_URI:$IMAGE_TAG"' in commands
    # The push only after a successful build.
    assert commands.index("docker build") < commands.index("docker push")
