"""The role of CDK's BucketNotificationsHandler, which writes the base bucket's S3 triggers."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.nag import acknowledge_wildcards


class NotificationsHandlerRole(iam.Role):
    """This bucket's notification configuration only (CDK's default is s3:PutBucketNotification
    on "*"); pass `.without_policy_updates()` so CDK cannot widen it."""

    def __init__(self, scope: Construct, construct_id: str, *, bucket_arn: str) -> None:
        logs_arn = cdk.Stack.of(scope).format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/lambda/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="CDK BucketNotificationsHandler: manage the base bucket's notifications",
            inline_policies={
                "BucketNotifications": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="ManageNotifications",
                            actions=["s3:GetBucketNotification", "s3:PutBucketNotification"],
                            resources=[bucket_arn],
                        ),
                        iam.PolicyStatement(
                            sid="WriteLogs",
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            resources=[logs_arn],
                        ),
                    ]
                )
            },
        )
        acknowledge_wildcards(
            self,
            [logs_arn],
            "CDK's notifications handler gets a CloudFormation-generated name, unknown when "
            "its role is written; logging actions only, in this account and region.",
        )
