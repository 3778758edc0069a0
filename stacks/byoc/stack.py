"""Bring your own container: the ECR repository and the CodeBuild project that builds FaceChain.

The build source is an S3 asset holding byoc/facechain/ plus style_backend/ (whose config and
domain/ the server imports, so the Dockerfile COPYs it); its hash is the image tag, so a new
image is built exactly when the container's inputs change. The build itself is started by the
FaceChain stack.
"""

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
from stacks.shared import Component, ProjectKey, ProjectLogGroup, ProjectStack, container_source

BUILDSPEC = "buildspec.yml"  # at the root of the source asset (byoc/facechain/buildspec.yml)
BUILD_TIMEOUT = cdk.Duration.minutes(55)
BUILD_ENVIRONMENT = codebuild.BuildEnvironment(
    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
    # Model weights are baked into the image: a large machine, plenty of disk.
    compute_type=codebuild.ComputeType.LARGE,
    privileged=True,  # docker build needs the Docker daemon
)


class ContainerBuildStack(ProjectStack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        self.repository = ecr.Repository(
            self,
            "FaceChainRepository",
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
        self.source = container_source(self, "FaceChainSource")
        self.image_tag = self.source.asset_hash
        self.project = ImageBuildProject(
            self,
            "ImageBuildProject",
            settings=settings,
            source=self.source,
            repository=self.repository,
            image_tag=self.image_tag,
        ).project
        cdk.CfnOutput(self, "RepositoryUri", value=self.repository.repository_uri)
        cdk.CfnOutput(self, "BuildProjectName", value=self.project.project_name)


class ImageBuildProject(Component):
    """`.project` (FaceChainImageBuild) with its own key, log group and least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        source: s3_assets.Asset,
        repository: ecr.IRepository,
        image_tag: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source, self.repository = source, repository
        key = ProjectKey(
            self,
            "BuildArtifactsKey",
            settings=settings,
            description="CodeBuild artifacts and logs of the FaceChain image build",
        )
        log_group = ProjectLogGroup(self, "BuildLogs", settings=settings)
        self.project = codebuild.Project(
            self,
            "FaceChainImageBuild",
            description="Builds the FaceChain serving image and pushes it to ECR",
            source=codebuild.Source.s3(bucket=source.bucket, path=source.s3_object_key),
            role=self._build_role(key, log_group),
            build_spec=codebuild.BuildSpec.from_source_filename(BUILDSPEC),
            environment=BUILD_ENVIRONMENT,
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                    value=repository.repository_uri
                ),
                # The build trigger overrides IMAGE_TAG with the tag it was asked to build.
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=image_tag),
                "AWS_ACCOUNT_ID": codebuild.BuildEnvironmentVariable(
                    value=cdk.Stack.of(self).account
                ),
            },
            encryption_key=key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
            # Shorter than the FaceChain stack's wait on the build (1 hour): a slow build fails
            # as a build, visibly, not as a custom-resource timeout with the build still running.
            timeout=BUILD_TIMEOUT,
            queued_timeout=cdk.Duration.minutes(60),
        )
        acknowledge(
            self.project,
            "AwsSolutions-CB3",
            "Privileged mode is required to run the Docker daemon that builds the image.",
        )

    def _build_role(self, key: kms.IKey, log_group: logs.ILogGroup) -> iam.IRole:
        """Exactly what the build does: read its source object, write its log group, use its
        key, push to (and look up tags in) its repository. CDK's broader default grants
        (s3:GetObject* on the asset bucket, kms:GenerateDataKey*, report groups) are not added."""
        source_bucket = self.source.bucket
        statements = [
            iam.PolicyStatement(
                sid="ReadBuildSource",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[source_bucket.arn_for_objects(self.source.s3_object_key)],
            ),
            iam.PolicyStatement(
                sid="LocateSourceBucket",
                actions=["s3:GetBucketAcl", "s3:GetBucketLocation"],
                resources=[source_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteBuildLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="UseBuildKey",
                actions=[
                    "kms:Decrypt",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:DescribeKey",
                ],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="PushImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages",  # skip the push when the immutable tag exists
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                resources=[self.repository.repository_arn],
            ),
            iam.PolicyStatement(
                sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
            ),
        ]
        role = iam.Role(
            self,
            "FaceChainImageBuildRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description="FaceChain image build: its source, logs, key and repository only",
            inline_policies={"ImageBuild": iam.PolicyDocument(statements=statements)},
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permission; every other ECR "
            "action is scoped to the repository.",
        )
        return role.without_policy_updates()
