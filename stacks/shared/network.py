"""The private network the model containers run in (docs/security.md, "Model network").

A small VPC with isolated subnets only (two AZs, as SageMaker requires; no internet or NAT
gateway, no route out), an S3 gateway endpoint whose policy admits only the objects the models'
requests and results are, flow logs, and one security group with no ingress. The models run
with network isolation on top: the container itself has no network at all, SageMaker reads the
request and writes the result for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.nag import acknowledge_wildcards
from stacks.settings import Settings
from stacks.shared.component import Component
from stacks.shared.storage import ProjectLogGroup

# Describe* of EC2 has no resource-level permissions; SageMaker calls them to place its ENIs.
ENI_DESCRIBE_ACTIONS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkInterfaces",
]
ENI_MANAGE_ACTIONS = [
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]


class IsolatedModelNetwork(Component):
    """`.vpc`, `.security_group`, `.s3_endpoint`; `vpc_config()` for a CfnModel and
    `execution_statements()` for its execution role. Call `allow_objects` for what the models'
    requests and results are: the S3 endpoint admits nothing else."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        cidr: str = "10.80.0.0/24",
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "ModelVpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=2,  # SageMaker wants subnets in two AZs, even for one instance
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Model", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=26
                )
            ],
        )
        self.subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.vpc.add_flow_log(
            "ModelVpcFlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                ProjectLogGroup(self, "ModelVpcFlowLogs", settings=settings)
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "ModelS3Endpoint",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "ModelSecurityGroup",
            vpc=self.vpc,
            description="Model containers: no ingress; HTTPS out, which only reaches S3",
            allow_all_outbound=False,
        )
        # The subnets route nowhere but the S3 gateway endpoint: 443 "anywhere" is S3 only.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 through the gateway endpoint"
        )

    def allow_objects(self, actions: Sequence[str], arns: Sequence[str], *, sid: str) -> None:
        """Admit `actions` on `arns` through the S3 endpoint. Until the first call the endpoint
        has S3's default policy (everything); after it, only what was admitted."""
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AnyPrincipal()],  # who: the caller's own IAM policy decides
                actions=list(actions),
                resources=list(arns),
            )
        )

    def vpc_config(self) -> sagemaker.CfnModel.VpcConfigProperty:
        return sagemaker.CfnModel.VpcConfigProperty(
            security_group_ids=[self.security_group.security_group_id],
            subnets=self.subnets.subnet_ids,
        )

    def execution_statements(self) -> list[iam.PolicyStatement]:
        """What SageMaker needs, as the model's execution role, to attach the model's network
        interfaces in these subnets (and only there); `acknowledge_role` says why on the role."""
        stack = cdk.Stack.of(self)
        subnets = [
            stack.format_arn(service="ec2", resource="subnet", resource_name=subnet_id)
            for subnet_id in self.subnets.subnet_ids
        ]
        group = stack.format_arn(
            service="ec2",
            resource="security-group",
            resource_name=self.security_group.security_group_id,
        )
        vpc = stack.format_arn(service="ec2", resource="vpc", resource_name=self.vpc.vpc_id)
        return [
            iam.PolicyStatement(
                sid="DescribeModelNetwork", actions=ENI_DESCRIBE_ACTIONS, resources=["*"]
            ),
            iam.PolicyStatement(
                sid="CreateModelInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[self._interfaces, *subnets, group],
            ),
            iam.PolicyStatement(
                sid="ManageModelInterfaces",
                actions=ENI_MANAGE_ACTIONS,
                resources=[self._interfaces],
                conditions={"ArnEquals": {"ec2:Vpc": vpc}},
            ),
        ]

    def acknowledge_role(self, role: iam.IRole) -> None:
        """cdk-nag: the interface wildcard of `execution_statements` (its Describe* on `*` is
        the role's own `Resource::*` acknowledgement, which must say so)."""
        acknowledge_wildcards(
            role,
            [self._interfaces],
            "The network interfaces SageMaker creates for the model get their ids only then: "
            "any interface id, and (by condition) only in this VPC.",
        )

    @property
    def _interfaces(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="ec2", resource="network-interface", resource_name="*"
        )
