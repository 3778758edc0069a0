"""Deploy-time settings: read once from the CDK context (cdk.context.json, or `-c key=value`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from faceflow.config import MAX_PHOTO_BYTES_CEILING
from style_backend.config import DEFAULT_MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class Settings:
    project_name: str = "style"
    s3_base_bucket_name: str = ""  # empty: CloudFormation generates a unique name
    region: str = "us-west-2"
    account: str = ""
    removal_policy: str = "retain"  # retain | destroy
    terms_version: str = "2026-11-01"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    upload_url_expiry_seconds: int = 300
    result_url_expiry_seconds: int = 900
    process_ttl_days: int = 30
    display_history_ttl_days: int = 90
    endpoint_instance_type: str = "ml.g5.xlarge"
    endpoint_max_instances: int = 2
    swap_engine: str = "facechain"
    alarm_email: str = ""
    # The hosted-UI domain prefix; empty: `{project_name}-login-{account id}` (stacks/cognito).
    cognito_domain_prefix: str = ""
    # Hosted-UI OAuth callback and sign-out URLs (comma-separated).
    cognito_callback_urls: str = "http://localhost:8000/"
    # USER_PASSWORD_AUTH is off in deployments (SRP never sends the password); the local runtime
    # turns it on because moto implements it fully.
    cognito_user_password_auth: bool = False
    # Lifetime of ID and access tokens (Cognito allows 5 min to 1 day). API Gateway's authorizer
    # accepts a token until it expires, even after its user signed out everywhere: keep it short
    # (the refresh token, revoked by a global sign-out, renews it).
    token_validity_minutes: int = 15
    # Browser origins allowed by the API and the bucket's CORS rules (comma-separated).
    cors_allowed_origins: str = "*"
    log_retention_days: int = 30
    # API Gateway stage throttling (steady requests per second, burst).
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    # Async inference: scale out when the backlog per instance exceeds this.
    endpoint_backlog_per_instance: int = 4
    ecr_max_images: int = 10
    # Deploy from CI (stacks/delivery): "owner/name" on GitHub; empty leaves that stack out.
    github_repository: str = ""
    # GitHub environments whose jobs may assume the deploy role (comma-separated).
    github_deploy_environments: str = "dev,prod"
    # An account has one provider per URL: reuse it when another stack made it already.
    github_oidc_provider_arn: str = ""
    cdk_bootstrap_qualifier: str = "hnb659fds"  # `cdk bootstrap`'s default
    # FaceFlow's own models (stacks/training): where `make train` runs, and the registered
    # embedding model package (ARN) the embedding endpoint serves; empty: no endpoint, FaceFlow
    # embeds with the default model. Changing it is a blue/green endpoint update.
    faceflow_training_instance_type: str = "ml.g5.xlarge"
    faceflow_embedding_model_package: str = ""
    faceflow_embedding_instance_type: str = "ml.c6i.large"
    # FaceFlow albums: largest photo accepted; files above one part go up as S3 multipart
    # (5 MiB is S3's smallest part); step retries (first interval, attempts); exports' lifetime.
    album_max_photo_bytes: int = MAX_PHOTO_BYTES_CEILING
    album_part_size_bytes: int = 5 * 1024 * 1024
    # How long an album upload URL (a PUT, or a multipart part) stays valid: it cannot be
    # revoked, so whatever it writes lands under the raw bucket's incoming/ prefix, where the
    # starter takes the upload or deletes it, and the lifecycle expires leftovers after
    # album_incoming_expiry_days (a starter that never ran: its dead-letter queue).
    album_upload_url_expiry_seconds: int = 1200
    album_incoming_expiry_days: int = 2
    album_retry_interval_seconds: int = 2
    album_retry_attempts: int = 3
    album_export_expiry_days: int = 7
    # FaceFlow sharing (docs/sharing.md): the SES sender (an email identity), shares a user may
    # create per hour, photos per share, a share's default lifetime (at most
    # album_export_expiry_days: the exports bucket deletes older objects, and longer requests
    # are shortened to it), the
    # exporter's multipart part size, and the CloudFront signing key generations (comma-separated,
    # the last one signs; rotation adds one, then drops the old one: RUNBOOK.md).
    share_sender_email: str = "shares@example.com"
    share_limit_per_hour: int = 10
    share_max_photos: int = 2000
    share_default_expiry_days: int = 3
    share_part_size_bytes: int = 8 * 1024 * 1024
    share_signing_key_generations: str = "1"

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
        """ValueError naming the first setting out of range, group by group."""
        if self.removal_policy not in ("retain", "destroy"):
            raise ValueError(f"removal_policy: retain or destroy, not {self.removal_policy!r}")
        if self.log_retention_days not in _RETENTION:
            raise ValueError(f"log_retention_days: one of {sorted(_RETENTION)}")
        self._validate_styling()
        self._validate_faceflow_models()
        self._validate_access()
        self._validate_delivery()
        self._validate_sharing()
        self._validate_albums()

    def _validate_styling(self) -> None:
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

    def _validate_faceflow_models(self) -> None:
        for name in ("faceflow_training_instance_type", "faceflow_embedding_instance_type"):
            if not getattr(self, name).startswith("ml."):
                raise ValueError(f"{name}: an ml.* type, not {getattr(self, name)!r}")
        package = self.faceflow_embedding_model_package
        if package and ":model-package/" not in package:
            raise ValueError(
                f"faceflow_embedding_model_package: a model package ARN, not {package!r}"
            )

    def _validate_access(self) -> None:
        """Cognito and CORS."""
        if not 5 <= self.token_validity_minutes <= 1440:
            raise ValueError("token_validity_minutes: 5 to 1440 (Cognito's limits)")
        if not self.cors_origins:
            raise ValueError("cors_allowed_origins: at least one origin")
        for prefix, what in (
            (self.cognito_domain_prefix, "cognito_domain_prefix"),
            (f"{self.hosted_ui_prefix_base}-123456789012", "project_name (the default prefix)"),
        ):
            if prefix and not _valid_domain_prefix(prefix):
                raise ValueError(
                    f"{what}: a Cognito domain prefix is 1-63 lowercase letters, digits and inner "
                    f"hyphens, without 'aws', 'amazon' or 'cognito', not {prefix!r}"
                )

    def _validate_delivery(self) -> None:
        """The GitHub deployment and the CDK bootstrap."""
        if self.github_repository and not _GITHUB_REPOSITORY.fullmatch(self.github_repository):
            raise ValueError(f"github_repository: owner/name, not {self.github_repository!r}")
        if self.github_repository and not self.deploy_environments:
            raise ValueError("github_deploy_environments: at least one environment")
        if not _BOOTSTRAP_QUALIFIER.fullmatch(self.cdk_bootstrap_qualifier):
            raise ValueError(f"cdk_bootstrap_qualifier: not {self.cdk_bootstrap_qualifier!r}")

    def _validate_albums(self) -> None:
        # docs/openapi.json declares the ceiling as the largest size: a deployment takes less.
        if not 1 <= self.album_max_photo_bytes <= MAX_PHOTO_BYTES_CEILING:
            raise ValueError(f"album_max_photo_bytes: 1 to {MAX_PHOTO_BYTES_CEILING}")
        if not 1 <= self.album_upload_url_expiry_seconds <= 7 * 24 * 3600:
            raise ValueError("album_upload_url_expiry_seconds: 1 to 604800 (S3's presign limit)")
        if self.album_incoming_expiry_days < 1:
            raise ValueError("album_incoming_expiry_days must be at least 1 (S3 lifecycle)")

    def _validate_sharing(self) -> None:
        if not _EMAIL.fullmatch(self.share_sender_email):
            raise ValueError(f"share_sender_email: an address, not {self.share_sender_email!r}")
        if not 1 <= self.share_default_expiry_days <= self.album_export_expiry_days:
            raise ValueError("share_default_expiry_days: 1 to album_export_expiry_days")
        # S3 multipart: parts of 5 MiB at least; at most 10,000 parts per archive.
        if self.share_part_size_bytes < 5 * 1024 * 1024:
            raise ValueError("share_part_size_bytes: at least 5 MiB (S3's smallest part)")
        for name in ("share_limit_per_hour", "share_max_photos"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        generations = self.signing_key_generations
        # A CloudFront key group holds at most 5 public keys.
        if not 1 <= len(generations) <= 5 or len(set(generations)) != len(generations):
            raise ValueError("share_signing_key_generations: 1 to 5 distinct numbers, e.g. 1,2")

    @property
    def signing_key_generations(self) -> list[str]:
        found = [g.strip() for g in self.share_signing_key_generations.split(",") if g.strip()]
        if not all(g.isdigit() for g in found):
            raise ValueError(f"share_signing_key_generations: numbers, not {found!r}")
        return found

    @property
    def swap_reserved_concurrency(self) -> int:
        """FaceSwapFunction's reserved concurrency: the backlog the endpoint at its largest is
        sized for (max instances × target backlog per instance). More swaps at once would only
        lengthen the endpoint's queue; S3 events beyond it wait in Lambda's async queue."""
        return self.endpoint_max_instances * self.endpoint_backlog_per_instance

    @property
    def completion_reserved_concurrency(self) -> int:
        """FaceSwapCompletionFunction's: the endpoint answers at most one request per instance
        at a time (MaxConcurrentInvocationsPerInstance 1), so completions arrive no faster."""
        return self.endpoint_max_instances

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allowed_origins.split(",") if o.strip()]

    @property
    def deploy_environments(self) -> list[str]:
        return [e.strip() for e in self.github_deploy_environments.split(",") if e.strip()]

    @property
    def hosted_ui_prefix_base(self) -> str:
        """The default hosted-UI prefix without its account id (stacks/cognito)."""
        return f"{self.project_name.lower()}-login"

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


# GitHub's owner and repository names: letters, digits, '-', '_' and '.'.
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")
_BOOTSTRAP_QUALIFIER = re.compile(r"[a-z0-9]{1,10}")
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

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


_DOMAIN_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _valid_domain_prefix(prefix: str) -> bool:
    """Cognito's rule for a prefix domain (CreateUserPoolDomain)."""
    reserved = any(word in prefix for word in ("aws", "amazon", "cognito"))
    return bool(_DOMAIN_PREFIX.fullmatch(prefix)) and not reserved
