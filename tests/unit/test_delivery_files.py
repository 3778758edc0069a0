"""The delivery files, offline: the GitHub workflows against GitHub's workflow schema
(check-jsonschema's vendored copy) plus what a schema cannot see (jobs, called workflows, make
targets, pinned actions, OIDC only), and the pre-commit hooks run on a scratch repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def _check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _runs(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow))


def test_the_workflows_are_there():
    assert [w.name for w in WORKFLOWS] == ["ci.yml", "deploy-environment.yml", "deploy.yml"]


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_every_workflow_validates_against_githubs_schema(schema):
    result = _check_schema(schema, *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  build:\n    steps:\n      - run: make\n")  # no runs-on
    result = _check_schema("vendor.github-workflows", broken)
    assert result.returncode == 1
    assert "runs-on" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_jobs_reference_what_exists(path):
    workflow = _load(path)
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        needs = job.get("needs", [])
        for needed in [needs] if isinstance(needs, str) else needs:
            assert needed in jobs, f"{name} needs unknown job {needed}"
        called = job.get("uses", "")
        if called.startswith("./"):
            target = _load(ROOT / called)
            inputs = target["on"]["workflow_call"]["inputs"]
            required = {k for k, v in inputs.items() if v.get("required")}
            assert required <= set(job.get("with", {})) <= set(inputs), name


def test_every_action_is_pinned_to_a_release():
    for path in WORKFLOWS:
        for step in _steps(_load(path)):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"])


def test_every_make_target_the_workflows_call_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    called = {t for w in WORKFLOWS for t in re.findall(r"\bmake ([\w-]+)", _runs(_load(w)))}
    assert called == {"synth", "iac-scan"}
    assert called <= targets
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_ci_tests_synthesizes_scans_and_builds_images_with_caches():
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")
    assert ci["on"]["push"] == {"branches": ["main"]} and "pull_request" in ci["on"]
    runs = _runs(ci)
    for command in (
        "bash .ci/run",
        "make synth",
        "make iac-scan",
        "docker build",
        "pre-commit run",
    ):
        assert command in runs, command
    (scan,) = [s for s in _steps(ci) if s.get("run") == "make iac-scan"]
    assert "continue-on-error" not in scan  # a failed check fails the job
    cached = {
        s["with"]["path"] for s in _steps(ci) if s.get("uses", "").startswith("actions/cache")
    }
    assert ".pip-cache" in cached and ci["env"]["PIP_CACHE_DIR"].endswith("/.pip-cache")
    (node,) = [s for s in _steps(ci) if s.get("uses", "").startswith("actions/setup-node")]
    assert node["with"]["cache"] == "npm"


def test_deploys_use_oidc_only_dev_first_and_prod_behind_its_environment():
    deploy = _load(ROOT / ".github" / "workflows" / "deploy.yml")
    called = _load(ROOT / ".github" / "workflows" / "deploy-environment.yml")
    text = "".join(p.read_text() for p in WORKFLOWS)
    assert "secrets." not in text and "aws-access-key-id" not in text  # no long-lived keys
    assert deploy["on"]["workflow_run"] == {
        "workflows": ["CI"],
        "types": ["completed"],
        "branches": ["main"],
    }
    jobs = deploy["jobs"]
    assert [job["with"]["environment"] for job in jobs.values()] == ["dev", "prod"]
    assert jobs["prod"]["needs"] == "dev"
    assert all(job["permissions"]["id-token"] == "write" for job in jobs.values())
    # The environment names are the subjects the deploy role trusts (stacks/delivery).
    assert [job["with"]["environment"] for job in jobs.values()] == Settings().deploy_environments
    (job,) = called["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    (credentials,) = [
        s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "cdk deploy --app cdk.out --all" in _runs(called)


# --- pre-commit --------------------------------------------------------------------------------

CONFIG = ROOT / ".pre-commit-config.yaml"


def test_every_hook_is_local_and_runs_a_tool_installed_in_the_venv():
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # nothing to clone
    hooks = config["repos"][0]["hooks"]
    assert {h["id"] for h in hooks} == {
        "ruff-check",
        "ruff-format",
        "end-of-file-fixer",
        "check-added-large-files",
        "detect-secrets",
    }
    for hook in hooks:
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/"), hook["id"]
        assert (BIN / Path(tool).name).exists(), f"{tool} is not installed (requirements-dev.txt)"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


def _pre_commit(repo: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}
    return subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def scratch_repo(tmp_path) -> Path:
    """A git repository with the project's hook configuration, ruff settings and venv."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    for name in (".pre-commit-config.yaml", "pyproject.toml", ".secrets.baseline"):
        shutil.copyfile(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(BIN.parent)
    (repo / "ok.py").write_text('"""Fine."""\n\nVALUE = 1\n')
    _git(repo, "add", ".pre-commit-config.yaml", "pyproject.toml", ".secrets.baseline", "ok.py")
    return repo


def test_the_hooks_pass_a_clean_tree(scratch_repo):
    result = _pre_commit(scratch_repo)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_hooks_stop_lint_missing_newlines_large_files_and_secrets(scratch_repo):
    (scratch_repo / "lint.py").write_text("import os\n")  # F401: unused import
    (scratch_repo / "notes.txt").write_text("no newline at the end")
    (scratch_repo / "big.bin").write_bytes(os.urandom(600 * 1024))
    fake_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"  # pragma: allowlist secret
    (scratch_repo / "settings.py").write_text(
        f'"""Oops."""\n\naws_secret_access_key = "{fake_key}"\n'
    )
    _git(scratch_repo, "add", "lint.py", "notes.txt", "big.bin", "settings.py")
    result = _pre_commit(scratch_repo)
    assert result.returncode == 1
    failed = set(re.findall(r"^(.+?)\.{3,}Failed$", result.stdout, re.MULTILINE))
    assert failed == {
        "ruff check",
        "files end with one newline",
        "no large files added (500 kB)",
        "no secrets (detect-secrets; known test values in .secrets.baseline)",
    }, result.stdout
    assert (scratch_repo / "notes.txt").read_text().endswith("\n")  # fixed in place
