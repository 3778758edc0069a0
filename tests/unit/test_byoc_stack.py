"""ECR repository and the CodeBuild project that builds the FaceChain image."""

from __future__ import annotations

import json
import re

from tests.unit.conftest import render


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


def test_build_role_is_scoped_to_its_source_logs_key_and_repository(synth):
    assert not synth.resources("ContainerBuild", "AWS::IAM::Policy")  # no CDK default grants
    roles = synth.resources("ContainerBuild", "AWS::IAM::Role")
    (role_id,) = [k for k in roles if k.startswith("FaceChainImageBuildRole")]
    assert _project(synth)["ServiceRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (policy,) = roles[role_id]["Properties"]["Policies"]
    granted = {}
    for statement in policy["PolicyDocument"]["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        assert not [a for a in actions if "*" in a], statement
        for action in actions:
            granted[action] = render(statement["Resource"])
    assert granted["ecr:PutImage"].startswith("<FaceChainRepository")
    assert granted["ecr:GetAuthorizationToken"] == "*"  # no resource-level permission exists
    assert granted["s3:GetObject"].endswith(".zip")  # the one source object
    assert granted["logs:PutLogEvents"].startswith("<BuildLogs")
    assert granted["kms:GenerateDataKey"].startswith("<BuildArtifactsKey")
