"""GitHub Actions' way into the account: an OIDC provider and a deploy role, deployed once by hand.

The role holds no permission of its own over resources: it may only assume the CDK bootstrap
roles (deploy, file and image publishing, lookup), which do the deploying. Its trust admits only
the repository's deploy jobs, by GitHub environment (`dev`, `prod`): no long-lived key exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.settings import Settings

GITHUB_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The roles `cdk bootstrap` creates, named cdk-<qualifier>-<kind>-role-<account>-<region>.
BOOTSTRAP_ROLE_KINDS = ("deploy", "file-publishing", "image-publishing", "lookup")


class GitHubDeployAccess(Construct):
    """The provider (or an existing one: one per account) and the role the workflows assume."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        environments: Sequence[str],
        bootstrap_qualifier: str,
        role_name: str,
        existing_provider_arn: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        if existing_provider_arn:
            provider = iam.OidcProviderNative.from_oidc_provider_arn(
                self, "Provider", existing_provider_arn
            )
        else:
            provider = iam.OidcProviderNative(
                self, "Provider", url=f"https://{GITHUB_ISSUER}", client_ids=[STS_AUDIENCE]
            )
        self.provider_arn = provider.oidc_provider_arn
        principal = deploy_jobs_principal(self.provider_arn, repository, environments)
        self.bootstrap_role_arns = bootstrap_role_arns(cdk.Stack.of(self), bootstrap_qualifier)
        self.role = iam.Role(
            self,
            "DeployRole",
            role_name=role_name,
            assumed_by=principal,
            max_session_duration=cdk.Duration.hours(1),
            description=f"GitHub Actions deploys of {repository}: assumes the CDK bootstrap roles",
            inline_policies={
                "AssumeCdkBootstrapRoles": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            # The CDK CLI tags its sessions on the bootstrap roles.
                            actions=["sts:AssumeRole", "sts:TagSession"],
                            resources=self.bootstrap_role_arns,
                        )
                    ]
                )
            },
        )


def deploy_jobs_principal(
    provider_arn: str, repository: str, environments: Sequence[str]
) -> iam.WebIdentityPrincipal:
    """Only the repository's jobs that declare one of the deploy environments."""
    return iam.WebIdentityPrincipal(
        provider_arn,
        conditions={
            "StringEquals": {
                f"{GITHUB_ISSUER}:aud": STS_AUDIENCE,
                # A job declaring `environment: NAME` gets this subject, and no other job does.
                f"{GITHUB_ISSUER}:sub": [
                    f"repo:{repository}:environment:{name}" for name in environments
                ],
            }
        },
    )


def bootstrap_role_arns(stack: cdk.Stack, qualifier: str) -> list[str]:
    """The CDK bootstrap roles of the stack's account and region, named exactly."""
    return [
        stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"cdk-{qualifier}-{kind}-role-{stack.account}-{stack.region}",
        )
        for kind in BOOTSTRAP_ROLE_KINDS
    ]


class DeliveryStack(cdk.Stack):
    """Deployed once per account and region (README, "Deploy from CI"); CI never deploys it."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kw) -> None:
        super().__init__(scope, construct_id, **kw)
        access = GitHubDeployAccess(
            self,
            "GitHubDeploy",
            repository=settings.github_repository,
            environments=settings.deploy_environments,
            bootstrap_qualifier=settings.cdk_bootstrap_qualifier,
            role_name=f"{settings.project_name}-github-deploy",
            existing_provider_arn=settings.github_oidc_provider_arn,
        )
        self.role = access.role
        cdk.CfnOutput(self, "DeployRoleArn", value=access.role.role_arn)
        cdk.CfnOutput(self, "OidcProviderArn", value=access.provider_arn)
