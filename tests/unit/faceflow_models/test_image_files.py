"""Static checks of FaceFlow's model image: Dockerfile, requirements, buildspec, build source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.unit.test_container_files import instructions as dockerfile_instructions

IMAGE_DIR = Path(__file__).resolve().parents[3] / "byoc" / "faceflow_models"


def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(IMAGE_DIR / "Dockerfile")


def test_base_image_is_pinned_and_torch_is_the_tested_version():
    (base,) = [rest for kw, rest in instructions() if kw == "FROM"]
    name, _, tag = base.rpartition(":")
    assert name and tag and tag != "latest"
    dev = (IMAGE_DIR.parents[1] / "requirements-dev.txt").read_text()
    (torch_pin,) = re.findall(r"^torch==(\S+)", dev, re.MULTILINE)
    runs = " ".join(rest for kw, rest in instructions() if kw == "RUN")
    assert f"torch=={torch_pin}" in runs


def test_entrypoint_serves_by_default_and_trains_when_sagemaker_says_train():
    steps = dict(instructions())
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "-m", "faceflow_models"]
    assert json.loads(steps["CMD"]) == ["serve"]


def test_serving_runs_unprivileged_unless_the_training_build_asks_for_root():
    args = dict(rest.split("=", 1) for kw, rest in instructions() if kw == "ARG")
    assert args["RUN_AS"] == "10001"
    assert [rest for kw, rest in instructions() if kw == "USER"] == ["${RUN_AS}"]
    build = yaml.safe_load((IMAGE_DIR / "buildspec.yml").read_text())
    commands = " ".join(build["phases"]["build"]["commands"])
    training, serving = commands.split('if exists "$SERVING_REPOSITORY_URI"')
    assert "--build-arg RUN_AS=0" in training and "RUN_AS" not in serving
    assert "TORCH_INDEX_URL" in serving  # the CPU build of torch for serving


def test_every_image_requirement_is_pinned():
    for line in (IMAGE_DIR / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.+\-]*", line), line


def test_the_image_copies_the_package_and_not_the_local_tools():
    copies = [rest.split()[0] for kw, rest in instructions() if kw == "COPY"]
    assert "faceflow_models/" in copies
    assert not [c for c in copies if "smoke" in c or "launch" in c]
