"""What `make train` submits and what `make register` registers, against moto (no AWS)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

import faceflow_launch as launch

REGION = "us-west-2"
ACCOUNT = "123456789012"
OUTPUTS = {
    "TrainingImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/training:abc123",
    "ServingImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/serving:abc123",
    "TrainingRoleArn": f"arn:aws:iam::{ACCOUNT}:role/style-training-TrainingJobRole",
    "TrainingBucket": "style-training-bucket",
    "TrainingKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "EmbeddingModelPackageGroup": "style-faceflow-embedding",
    "DetectionModelPackageGroup": "style-faceflow-detection",
    "ImageBuildProject": "build",
}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def deployed_stack(session) -> launch.Targets:
    """The Training stack's outputs as CloudFormation reports them."""
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {name: {"Value": value} for name, value in OUTPUTS.items()},
    }
    cfn = session.client("cloudformation")
    cfn.create_stack(StackName="style-training", TemplateBody=json.dumps(template))
    return launch.Targets.from_stack("style-training", cfn)


def test_targets_come_from_the_training_stack_outputs(aws):
    targets = deployed_stack(aws)
    assert targets.training_image_uri == OUTPUTS["TrainingImageUri"]
    assert targets.role_arn == OUTPUTS["TrainingRoleArn"]
    assert targets.groups == {
        "embedding": "style-faceflow-embedding",
        "detection": "style-faceflow-detection",
    }


def test_the_training_job_make_train_submits():
    targets = launch.Targets.from_outputs(OUTPUTS)
    instance = launch.project_context()["faceflow_training_instance_type"]
    job = launch.training_job(
        targets, "embedding", instance, overrides={"steps": 100, "margin": 0.4}
    )
    args = launch.estimator_arguments(job)
    assert args["instance_type"] == instance == "ml.g5.xlarge"
    assert args["instance_count"] == 1
    assert args["image_uri"] == OUTPUTS["TrainingImageUri"]
    assert args["role"] == OUTPUTS["TrainingRoleArn"]
    assert job.inputs == {
        "train": "s3://style-training-bucket/datasets/embedding/train",
        "validation": "s3://style-training-bucket/datasets/embedding/validation",
    }
    assert args["hyperparameters"] == {
        "task": "embedding",
        "steps": "100",
        "batch_size": "128",
        "image_size": "112",
        "workers": "4",
        "margin": "0.4",
    }
    assert args["output_path"] == "s3://style-training-bucket/jobs"
    assert args["output_kms_key"] == args["volume_kms_key"] == OUTPUTS["TrainingKeyArn"]
    assert args["enable_network_isolation"] is True
    assert {m["Name"] for m in args["metric_definitions"]} == {"train:loss", "validation:loss"}


def test_the_metric_regexes_match_what_the_training_scripts_print(capsys):
    import re

    from faceflow_models.training import LossLog

    LossLog(log_every=1).record(1, 1.23456, focal=0.5)
    printed = capsys.readouterr().out
    train_regex, validation_regex = (m["Regex"] for m in launch.METRIC_DEFINITIONS)
    assert re.search(train_regex, printed).group(1) == "1.2346"
    assert re.search(validation_regex, "validation_loss=0.5000").group(1) == "0.5000"


@pytest.mark.parametrize(
    ("task", "dataset", "message"),
    [("faces", None, "task: one of"), ("detection", "jobs/x", "reads only under datasets/")],
)
def test_jobs_the_role_could_not_run_are_refused_before_submitting(task, dataset, message):
    targets = launch.Targets.from_outputs(OUTPUTS)
    with pytest.raises(ValueError, match=message):
        launch.training_job(targets, task, "ml.g5.xlarge", dataset)


def test_the_sdk_submits_that_job(aws):
    """With the SDK installed (make train's venv), the job it creates is the configured one."""
    sagemaker = pytest.importorskip("sagemaker")
    targets = deployed_stack(aws)
    job = launch.training_job(targets, "detection", "ml.g5.2xlarge", overrides={"steps": 5})
    name = launch.start(job, sagemaker.Session(boto_session=aws))
    created = aws.client("sagemaker").describe_training_job(TrainingJobName=name)
    assert created["AlgorithmSpecification"]["TrainingImage"] == OUTPUTS["TrainingImageUri"]
    assert created["RoleArn"] == OUTPUTS["TrainingRoleArn"]
    assert created["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in created["InputDataConfig"]
    }
    assert channels == job.inputs
    assert created["HyperParameters"]["steps"] == "5"
    assert created["OutputDataConfig"]["S3OutputPath"] == "s3://style-training-bucket/jobs"


def finished_job(client, task: str = "embedding") -> str:
    client.create_training_job(
        TrainingJobName="faceflow-embedding-1",
        AlgorithmSpecification={
            "TrainingImage": OUTPUTS["TrainingImageUri"],
            "TrainingInputMode": "File",
        },
        RoleArn=OUTPUTS["TrainingRoleArn"],
        HyperParameters={"task": task, "steps": "10"},
        OutputDataConfig={"S3OutputPath": "s3://style-training-bucket/jobs"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    return "faceflow-embedding-1"


def test_register_adds_the_jobs_artifact_with_the_serving_image_to_its_group(aws):
    targets = deployed_stack(aws)
    client = aws.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName="style-faceflow-embedding")
    name = finished_job(client)
    artifact = client.describe_training_job(TrainingJobName=name)["ModelArtifacts"][
        "S3ModelArtifacts"
    ]
    arn = launch.register(targets, name, client)
    package = client.describe_model_package(ModelPackageName=arn)
    assert package["ModelPackageGroupName"] == "style-faceflow-embedding"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["Image"] == OUTPUTS["ServingImageUri"]
    assert container["ModelDataUrl"] == artifact
    assert ":model-package/" in arn  # what faceflow_embedding_model_package accepts


def test_register_refuses_a_job_that_is_not_faceflows_or_not_finished():
    targets = launch.Targets.from_outputs(OUTPUTS)
    description = {
        "TrainingJobName": "other",
        "TrainingJobStatus": "Completed",
        "HyperParameters": {},
        "ModelArtifacts": {"S3ModelArtifacts": "s3://x/model.tar.gz"},
    }
    with pytest.raises(ValueError, match="not a FaceFlow training job"):
        launch.model_package_request(targets, description, approve=False)
    running = {
        **description,
        "HyperParameters": {"task": "embedding"},
        "TrainingJobStatus": "InProgress",
    }
    with pytest.raises(ValueError, match="is InProgress"):
        launch.model_package_request(targets, running, approve=False)
