"""Deploy-time settings: read once from the CDK context (cdk.context.json, or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import aws_cdk as cdk
from constructs import Construct


@dataclass(frozen=True)
class Settings:
    project_name: str = "style"
    s3_base_bucket_name: str = ""  # empty: CloudFormation generates a unique name
    region: str = "us-west-2"
    account: str = ""
    removal_policy: str = "retain"  # retain | destroy
    terms_version: str = "2026-11-01"
    max_upload_bytes: int = 10 * 1024 * 1024
    upload_url_expiry_seconds: int = 300
    result_url_expiry_seconds: int = 900
    process_ttl_days: int = 30
    display_history_ttl_days: int = 90
    endpoint_instance_type: str = "ml.g5.xlarge"
    endpoint_max_instances: int = 2
    swap_engine: str = "facechain"
    alarm_email: str = ""
    cognito_domain_prefix: str = ""

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        values = {}
        for f in fields(cls):
            raw = scope.node.try_get_context(f.name)
            if raw is None:
                continue
            values[f.name] = int(raw) if f.type == "int" else str(raw)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.removal_policy not in ("retain", "destroy"):
            raise ValueError(f"removal_policy: retain or destroy, not {self.removal_policy!r}")
        if self.swap_engine not in ("facechain", "cpu", "onnx"):
            raise ValueError(f"swap_engine: facechain, cpu or onnx, not {self.swap_engine!r}")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be positive")

    @property
    def cdk_removal_policy(self) -> cdk.RemovalPolicy:
        if self.removal_policy == "destroy":
            return cdk.RemovalPolicy.DESTROY
        return cdk.RemovalPolicy.RETAIN
