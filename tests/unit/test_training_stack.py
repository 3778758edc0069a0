"""The Training stack: image repositories and their build, the training bucket, the training
job's role, the model registry, and the embedding endpoint that exists only once configured."""

from __future__ import annotations

import json

import pytest

from tests.unit.conftest import render

PACKAGE = "arn:aws:sagemaker:us-west-2:123456789012:model-package/style-faceflow-embedding/3"


def statements(role: dict) -> dict[str, dict]:
    (policy,) = role["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def resources(statement: dict) -> list[str]:
    value = statement["Resource"]
    return [render(v) for v in (value if isinstance(value, list) else [value])]


def role(synth_like, prefix: str) -> dict:
    roles = synth_like["Resources"]
    (found,) = [
        v for k, v in roles.items() if k.startswith(prefix) and v["Type"] == "AWS::IAM::Role"
    ]
    return found


@pytest.fixture(scope="module")
def template(synth) -> dict:
    return synth.template_json("Training")


@pytest.fixture(scope="module")
def with_endpoint(tmp_path_factory) -> tuple[dict, object]:
    """The stack alone, with a registered model package named in the context."""
    import aws_cdk as cdk

    from app import apply_project_context
    from stacks.nag import add_checks
    from stacks.settings import Settings
    from stacks.training import TrainingStack

    outdir = tmp_path_factory.mktemp("training.out")
    app = cdk.App(
        outdir=str(outdir),
        context={
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:validationReportJson": True,
            "faceflow_embedding_model_package": PACKAGE,
        },
    )
    apply_project_context(app)  # cdk.json's feature flags, as for the CLI
    TrainingStack(app, "Training", settings=Settings.from_context(app))
    add_checks(app)
    error = None
    try:
        app.synth()
    except RuntimeError as exc:
        error = exc
    return json.loads((outdir / "Training.template.json").read_text()), error


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cdk_nag_is_clean_with_and_without_the_endpoint(synth, with_endpoint):
    assert synth.error is None, synth.error
    assert with_endpoint[1] is None, with_endpoint[1]


def test_two_immutable_scanned_repositories_and_one_build_for_both(template):
    repos = of_type(template, "AWS::ECR::Repository")
    assert len(repos) == 2
    for repo in repos.values():
        assert repo["Properties"]["ImageTagMutability"] == "IMMUTABLE"
        assert repo["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
    (project,) = of_type(template, "AWS::CodeBuild::Project").values()
    env = project["Properties"]["Environment"]
    names = {v["Name"] for v in env["EnvironmentVariables"]}
    assert {"TRAINING_REPOSITORY_URI", "SERVING_REPOSITORY_URI", "IMAGE_TAG"} <= names
    assert project["Properties"]["Source"]["BuildSpec"] == "buildspec.yml"


def test_training_bucket_is_kms_encrypted_versioned_private_and_logged(template):
    buckets = of_type(template, "AWS::S3::Bucket")
    (data,) = [b for b in buckets.values() if "LoggingConfiguration" in b["Properties"]]
    props = data["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


def test_training_role_reads_datasets_writes_jobs_and_pulls_only_the_training_image(template):
    found = role(template, "TrainingJobRole")
    principal = found["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "sagemaker.amazonaws.com"}
    granted = statements(found)
    assert resources(granted["ReadDatasets"])[0].startswith("<DataBucket")
    assert resources(granted["ReadDatasets"])[0].endswith("/datasets/*")
    assert actions(granted["ReadDatasets"]) == ["s3:GetObject"]
    assert resources(granted["WriteJobOutputs"])[0].endswith("/jobs/*")
    assert "s3:DeleteObject" not in actions(granted["WriteJobOutputs"])
    (repo,) = resources(granted["PullImage"])
    assert repo.startswith("<ImagesTrainingRepository")
    assert "ecr:PutImage" not in actions(granted["PullImage"])
    assert granted["Metrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
    }
    every = [a for s in granted.values() for a in actions(s)]
    assert not [a for a in every if "*" in a]
    assert not [
        r
        for s in granted.values()
        for r in resources(s)
        if r == "*" and s["Sid"] not in ("EcrLogin", "Metrics")
    ]


def test_a_model_package_group_per_family(template):
    groups = of_type(template, "AWS::SageMaker::ModelPackageGroup")
    names = sorted(g["Properties"]["ModelPackageGroupName"] for g in groups.values())
    assert names == ["style-faceflow-detection", "style-faceflow-embedding"]


def test_outputs_give_make_train_what_it_needs(template):
    outputs = set(template["Outputs"])
    assert {
        "TrainingImageUri",
        "TrainingRoleArn",
        "TrainingBucket",
        "TrainingKeyArn",
        "EmbeddingModelPackageGroup",
        "ServingImageUri",
    } <= outputs


def test_no_embedding_endpoint_until_a_model_package_is_configured(template):
    assert not of_type(template, "AWS::SageMaker::Endpoint")
    assert not of_type(template, "AWS::SageMaker::Model")


def test_the_configured_model_package_is_served_with_blue_green_updates(with_endpoint):
    template, _ = with_endpoint
    (model,) = of_type(template, "AWS::SageMaker::Model").values()
    (container,) = model["Properties"]["Containers"]
    assert container == {"ModelPackageName": PACKAGE}
    assert model["Properties"]["EnableNetworkIsolation"] is True
    (config,) = of_type(template, "AWS::SageMaker::EndpointConfig").values()
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["InstanceType"] == "ml.c6i.large"
    assert "KmsKeyId" in config["Properties"]
    (endpoint,) = of_type(template, "AWS::SageMaker::Endpoint").values()
    deployment = endpoint["Properties"]["DeploymentConfig"]
    policy = deployment["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert policy["TerminationWaitInSeconds"] > 0
    (alarm,) = deployment["AutoRollbackConfiguration"]["Alarms"]
    (alarm_id,) = of_type(template, "AWS::CloudWatch::Alarm")
    assert alarm["AlarmName"] == {"Ref": alarm_id}
    granted = statements(role(template, "EmbeddingEndpointRole"))
    (repo,) = resources(granted["PullImage"])
    assert repo.startswith("<ImagesServingRepository")
    assert actions(granted["ReadModelArtifacts"]) == ["s3:GetObject"]


def test_a_model_package_that_is_not_an_arn_is_refused():
    from stacks.settings import Settings

    with pytest.raises(ValueError, match="faceflow_embedding_model_package"):
        Settings(faceflow_embedding_model_package="my-model").validate()
