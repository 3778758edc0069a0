"""Deploy-time settings: read once from the CDK context (cdk.context.json, or `-c key=value`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
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
    # Hosted-UI OAuth callback URLs (comma-separated); used only when cognito_domain_prefix is set.
    cognito_callback_urls: str = "http://localhost:8000/"
    # USER_PASSWORD_AUTH is off in deployments (SRP never sends the password); the local runtime
    # turns it on because moto implements it fully.
    cognito_user_password_auth: bool = False
    # Browser origins allowed by the API and the bucket's CORS rules (comma-separated).
    cors_allowed_origins: str = "*"
    log_retention_days: int = 30
    # API Gateway stage throttling (steady requests per second, burst).
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    # Async inference: scale out when the backlog per instance exceeds this.
    endpoint_backlog_per_instance: int = 4
    ecr_max_images: int = 10
    # FaceFlow albums: largest photo accepted; files above one part go up as S3 multipart
    # (5 MiB is S3's smallest part); step retries (first interval, attempts); exports' lifetime.
    album_max_photo_bytes: int = 50 * 1024 * 1024
    album_part_size_bytes: int = 5 * 1024 * 1024
    album_retry_interval_seconds: int = 2
    album_retry_attempts: int = 3
    album_export_expiry_days: int = 7

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        values = {}
        for f in fields(cls):
            raw = scope.node.try_get_context(f.name)
            if raw is None:
                continue
            values[f.name] = _parse(f.type, raw)
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
        if not self.endpoint_instance_type.startswith("ml."):
            raise ValueError(
                f"endpoint_instance_type: an ml.* type, not {self.endpoint_instance_type!r}"
            )
        if self.endpoint_max_instances < 1:
            raise ValueError("endpoint_max_instances must be at least 1")
        if self.log_retention_days not in _RETENTION:
            raise ValueError(f"log_retention_days: one of {sorted(_RETENTION)}")
        if not self.cors_origins:
            raise ValueError("cors_allowed_origins: at least one origin")

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    @property
    def callback_urls(self) -> list[str]:
        return [u.strip() for u in self.cognito_callback_urls.split(",") if u.strip()]

    @property
    def cdk_log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def cdk_removal_policy(self) -> cdk.RemovalPolicy:
        if self.removal_policy == "destroy":
            return cdk.RemovalPolicy.DESTROY
        return cdk.RemovalPolicy.RETAIN


_RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def _parse(type_name: str, raw: object) -> object:
    """Context values arrive as JSON from cdk.context.json or as strings from `-c key=value`."""
    if type_name == "int":
        return int(raw)
    if type_name == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    return str(raw)
