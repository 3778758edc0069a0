"""Least-privilege roles SageMaker assumes: the training job's and the embedding endpoint's."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.nag import acknowledge, acknowledge_wildcards
from stacks.training.data import DATASETS, JOBS, TrainingData


def _sagemaker_logs(scope: Construct, kind: str) -> str:
    return cdk.Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/sagemaker/{kind}:*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def _common(scope: Construct, repository: ecr.IRepository, kind: str) -> list[iam.PolicyStatement]:
    """Pull one image, write to SageMaker's own log group and metric namespace of `kind`."""
    return [
        iam.PolicyStatement(
            sid="PullImage",
            actions=[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            resources=[repository.repository_arn],
        ),
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            sid="Logs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[_sagemaker_logs(scope, kind)],
        ),
        iam.PolicyStatement(
            sid="Metrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": f"/aws/sagemaker/{kind}"}},
        ),
    ]


def _sagemaker_role(
    scope: Construct,
    construct_id: str,
    *,
    kind: str,
    repository: ecr.IRepository,
    description: str,
    statements: list[iam.PolicyStatement],
    objects: list[str],
    objects_reason: str,
) -> iam.Role:
    """A role SageMaker assumes for `kind` (TrainingJobs, Endpoints): the common grants, then
    `statements`; `objects` are the S3 object ARNs (with wildcards) they grant."""
    role = iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description=description,
        inline_policies={
            kind: iam.PolicyDocument(statements=[*_common(scope, repository, kind), *statements])
        },
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level "
        "permission; PutMetricData is limited to SageMaker's namespace by condition.",
    )
    acknowledge_wildcards(
        role,
        [_sagemaker_logs(scope, kind)],
        f"The log streams of SageMaker's /aws/sagemaker/{kind} group (SageMaker names them).",
    )
    acknowledge_wildcards(role, objects, objects_reason)
    return role


def training_job_role(
    scope: Construct, construct_id: str, *, data: TrainingData, repository: ecr.IRepository
) -> iam.Role:
    """Reads datasets/, writes jobs/ (model artifacts, output, checkpoints), uses the data key
    (bucket objects and the training volume), pulls the training image, logs, emits metrics."""
    bucket = data.bucket
    datasets, jobs = bucket.arn_for_objects(f"{DATASETS}*"), bucket.arn_for_objects(f"{JOBS}*")
    statements = [
        iam.PolicyStatement(sid="ReadDatasets", actions=["s3:GetObject"], resources=[datasets]),
        iam.PolicyStatement(
            sid="ListDatasets",
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{DATASETS}*", f"{JOBS}*"]}},
        ),
        iam.PolicyStatement(
            sid="WriteJobOutputs",
            actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
            resources=[jobs],
        ),
        iam.PolicyStatement(
            sid="UseDataKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
            resources=[data.key.key_arn],
        ),
    ]
    return _sagemaker_role(
        scope,
        construct_id,
        kind="TrainingJobs",
        repository=repository,
        description="FaceFlow training jobs: read datasets/, write jobs/, pull the training image",
        statements=statements,
        objects=[datasets, jobs],
        objects_reason="Objects under the two prefixes a training job reads (datasets/) and "
        "writes (jobs/).",
    )


def endpoint_role(
    scope: Construct, construct_id: str, *, data: TrainingData, repository: ecr.IRepository
) -> iam.Role:
    """Pulls the serving image and reads the registered artifact under jobs/."""
    jobs = data.bucket.arn_for_objects(f"{JOBS}*")
    statements = [
        iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=[jobs]),
        iam.PolicyStatement(
            sid="DecryptArtifacts", actions=["kms:Decrypt"], resources=[data.key.key_arn]
        ),
    ]
    return _sagemaker_role(
        scope,
        construct_id,
        kind="Endpoints",
        repository=repository,
        description="FaceFlow embedding endpoint: pull the serving image, read the model artifact",
        statements=statements,
        objects=[jobs],
        objects_reason="Model artifacts are written by training jobs under jobs/<job name>/: "
        "read only there.",
    )
