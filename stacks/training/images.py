"""ECR repositories for the two images one Dockerfile builds (byoc/faceflow_models), and the
CodeBuild project that builds both: `training` (CUDA torch, for training jobs on GPU) and
`serving` (CPU torch, for processing jobs and the embedding endpoint)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import Settings
from stacks.shared.bundling import REPO_ROOT, fingerprint
from stacks.shared.storage import ProjectLogGroup

SOURCE_DIR = REPO_ROOT / "byoc" / "faceflow_models"
# What the image does not need: the local smoke run and caches.
SOURCE_EXCLUDES = ["faceflow_smoke.py", "**/__pycache__", "**/*.pyc"]
IMAGES = ("training", "serving")
BUILD_TIMEOUT = cdk.Duration.minutes(60)


class ModelImages(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.repositories = {name: self._repository(settings, name) for name in IMAGES}
        self.source = s3_assets.Asset(
            self,
            "Source",
            path=str(SOURCE_DIR),
            exclude=SOURCE_EXCLUDES,
            asset_hash=fingerprint([SOURCE_DIR], "faceflow-models-source-v1"),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
        )
        self.image_tag = self.source.asset_hash
        key = kms.Key(
            self,
            "BuildKey",
            enable_key_rotation=True,
            description="CodeBuild artifacts and logs of the FaceFlow model images",
            removal_policy=settings.cdk_removal_policy,
        )
        log_group = ProjectLogGroup(self, "BuildLogs", settings=settings)
        variables = {
            f"{name.upper()}_REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                value=repo.repository_uri
            )
            for name, repo in self.repositories.items()
        }
        self.project = self._project(key, log_group, variables)
        acknowledge(
            self.project,
            "AwsSolutions-CB3",
            "Privileged mode is required to run the Docker daemon that builds the images.",
        )

    def _repository(self, settings: Settings, name: str) -> ecr.Repository:
        return ecr.Repository(
            self,
            f"{name.capitalize()}Repository",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description=f"keep the newest {settings.ecr_max_images} images",
                    max_image_count=settings.ecr_max_images,
                    tag_status=ecr.TagStatus.ANY,
                )
            ],
            removal_policy=settings.cdk_removal_policy,
        )

    def _project(
        self, key: kms.IKey, log_group: logs.ILogGroup, variables: dict
    ) -> codebuild.Project:
        return codebuild.Project(
            self,
            "Build",
            description="Builds the FaceFlow training and serving images and pushes them to ECR",
            source=codebuild.Source.s3(bucket=self.source.bucket, path=self.source.s3_object_key),
            role=self._role(key, log_group),
            build_spec=codebuild.BuildSpec.from_source_filename("buildspec.yml"),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.LARGE,  # CUDA torch layers: disk and memory
                privileged=True,
            ),
            environment_variables={
                **variables,
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=self.image_tag),
            },
            encryption_key=key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
            timeout=BUILD_TIMEOUT,
        )

    def image_uri(self, name: str) -> str:
        return f"{self.repositories[name].repository_uri}:{self.image_tag}"

    def _role(self, key: kms.IKey, log_group: logs.ILogGroup) -> iam.IRole:
        """The build's source object, its log group, its key, its two repositories."""
        statements = [
            iam.PolicyStatement(
                sid="ReadBuildSource",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self.source.bucket.arn_for_objects(self.source.s3_object_key)],
            ),
            iam.PolicyStatement(
                sid="LocateSourceBucket",
                actions=["s3:GetBucketAcl", "s3:GetBucketLocation"],
                resources=[self.source.bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteBuildLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="UseBuildKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="PushImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                resources=[repo.repository_arn for repo in self.repositories.values()],
            ),
            iam.PolicyStatement(
                sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            ),
        ]
        role = iam.Role(
            self,
            "BuildRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description="FaceFlow model image build: its source, logs, key and repositories only",
            inline_policies={"ImageBuild": iam.PolicyDocument(statements=statements)},
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permission; every other ECR "
            "action is scoped to the two repositories.",
        )
        return role.without_policy_updates()
