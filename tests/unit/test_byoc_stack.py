"""ECR repository and the CodeBuild project that builds the FaceChain image."""

from __future__ import annotations

import json
import re


def _project(synth) -> dict:
    (project,) = synth.resources("ContainerBuild", "AWS::CodeBuild::Project").values()
    return project["Properties"]


def test_repository_scans_keeps_immutable_tags_and_expires_old_images(synth):
    (repo,) = synth.resources("ContainerBuild", "AWS::ECR::Repository").values()
    props = repo["Properties"]
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    assert props["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    (rule,) = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == 10


def test_project_builds_docker_from_the_s3_source_with_its_buildspec(synth):
    props = _project(synth)
    env = props["Environment"]
    assert env["PrivilegedMode"] is True
    assert env["Type"] == "LINUX_CONTAINER"
    variables = {v["Name"]: v["Value"] for v in env["EnvironmentVariables"]}
    assert {"REPOSITORY_URI", "IMAGE_TAG"} <= set(variables)
    assert re.fullmatch(r"[0-9a-f]{64}", variables["IMAGE_TAG"])
    assert props["Source"]["Type"] == "S3"
    assert props["Source"]["BuildSpec"] == "buildspec.yml"
    assert "EncryptionKey" in props
    assert props["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED"
    # The FaceChain stack waits one hour on the build: the build must give up first.
    assert props["TimeoutInMinutes"] < 60


def test_build_role_can_push_only_to_its_repository(synth):
    policies = synth.resources("ContainerBuild", "AWS::IAM::Policy").values()
    ecr_statements = [
        s
        for p in policies
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if any(
            a.startswith("ecr:")
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        )
    ]
    push = next(s for s in ecr_statements if "ecr:PutImage" in s["Action"])
    assert push["Resource"]["Fn::GetAtt"][0].startswith("FaceChainRepository")
    token = next(s for s in ecr_statements if s["Action"] == "ecr:GetAuthorizationToken")
    assert token["Resource"] == "*"  # the one action with no resource-level permission
