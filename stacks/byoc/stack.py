"""Bring your own container: the ECR repository and the CodeBuild project that builds FaceChain.

The build source is an S3 asset holding byoc/facechain/ plus style_backend/ (the domain package,
so the Dockerfile can COPY it); its hash is the image tag, so a new image is built exactly when
the container's inputs change. The build itself is started by the FaceChain stack.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.lambdas.bundling import container_source
from stacks.nag import acknowledge, acknowledge_wildcards
from stacks.settings import Settings

BUILDSPEC = "buildspec.yml"  # at the root of the source asset (byoc/facechain/buildspec.yml)


class ContainerBuildStack(cdk.Stack):
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
        key = kms.Key(
            self,
            "BuildArtifactsKey",
            enable_key_rotation=True,
            description="CodeBuild artifacts and logs of the FaceChain image build",
            removal_policy=settings.cdk_removal_policy,
        )
        log_group = logs.LogGroup(
            self,
            "BuildLogs",
            retention=settings.cdk_log_retention,
            removal_policy=settings.cdk_removal_policy,
        )
        self.project = codebuild.Project(
            self,
            "FaceChainImageBuild",
            description="Builds the FaceChain serving image and pushes it to ECR",
            source=codebuild.Source.s3(bucket=self.source.bucket, path=self.source.s3_object_key),
            build_spec=codebuild.BuildSpec.from_source_filename(BUILDSPEC),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                # Model weights are baked into the image: a large machine, plenty of disk.
                compute_type=codebuild.ComputeType.LARGE,
                privileged=True,  # docker build needs the Docker daemon
            ),
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                    value=self.repository.repository_uri
                ),
                # The build trigger overrides IMAGE_TAG with the tag it was asked to build.
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=self.image_tag),
                "AWS_ACCOUNT_ID": codebuild.BuildEnvironmentVariable(value=self.account),
            },
            encryption_key=key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
            timeout=cdk.Duration.minutes(120),
            queued_timeout=cdk.Duration.minutes(60),
        )
        self.repository.grant_pull_push(self.project)
        acknowledge(
            self.project,
            "AwsSolutions-CB3",
            "Privileged mode is required to run the Docker daemon that builds the image.",
        )
        policy = self.project.role.node.find_child("DefaultPolicy").node.default_child
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permission (CDK's "
            "grant_pull_push); every other ECR action is scoped to the repository.",
        )
        for finding in ("Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[{finding}]",
                "CDK's read grant on the bootstrap asset bucket for the build source asset.",
            )
        arn_prefix = f"arn:{self.partition}"
        acknowledge_wildcards(
            policy,
            [
                f"{arn_prefix}:logs:{self.region}:{self.account}:log-group:/aws/codebuild/"
                f"{self.project.project_name}:*",
                f"{arn_prefix}:codebuild:{self.region}:{self.account}:report-group/"
                f"{self.project.project_name}-*",
            ],
            "CodeBuild's defaults for this project: its own log group streams and report groups.",
        )
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's encrypt grant on this project's own artifacts key (resource is that key).",
            )
        cdk.CfnOutput(self, "RepositoryUri", value=self.repository.repository_uri)
        cdk.CfnOutput(self, "BuildProjectName", value=self.project.project_name)
