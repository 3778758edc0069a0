"""FaceFlow sharing, a part of the album stack (it needs the exports bucket's policy and key):

- ShareSigningKeys: per key generation (`share_signing_key_generations`), a secret (album key)
  that the signing-key custom resource (lambda/sharing/share_keys.py, run at deploy time) fills
  with a fresh RSA-2048 private key, and the CloudFront public key it answers; one key group
  holds them all, the last generation signs;
- ShareDistribution: CloudFront on the exports bucket through origin access control (read
  only, SSE-KMS decrypt for this distribution), every request signed by the key group, HTTPS
  only, caching disabled (a revoked share's objects are gone at once), standard logs;
- ShareMail: the SES sender identity and the share email template (faceflow.domain.share_mail);
- ShareExport: the export queue (+ DLQ, alarm) and the exporter function;
- the share API function (lambda/sharing/share_api.py, in the FaceFlow image: it asks the people
  backend for a share's photos), mounted by the API stack; the exporter and the key function are
  zip functions with the shared layer (stdlib zipfile, boto3, cryptography).

Each function gets only what its code does. docs/sharing.md has the design, RUNBOOK.md the key
rotation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from faceflow.config import AlbumEnv
from faceflow.domain.share_mail import TEMPLATE
from stacks.albums import grants
from stacks.nag import acknowledge, skip_checkov
from stacks.settings import Settings
from stacks.shared import AccessLogBucket, Component, DeadLetterQueue, ProjectFunction
from style_backend.config import EnvVar
from style_backend.edge.api.routes import API_FUNCTIONS, location

SHARE_FUNCTION = "SharesApiFunction"  # style_backend.edge.api.routes.API_FUNCTIONS
GROUP, API_MODULE = location(API_FUNCTIONS[SHARE_FUNCTION])  # lambda/sharing, share_api
EXPORT_TIMEOUT_S = 600
EXPORT_ATTEMPTS = 3  # receives of one request before it goes to the dead-letter queue


class Albums(Protocol):
    """What sharing uses of the album stack (stacks/albums/stack.py)."""

    _settings: Settings
    table: ddb.Table

    @property
    def storage(self) -> Any: ...

    def _function(self, *args: Any, **kw: Any) -> ProjectFunction: ...

    def _table(self, fn: ProjectFunction, *actions: str, lsi: bool = False) -> None: ...


class ShareSigningKeys(Component):
    def __init__(
        self, scope: Construct, construct_id: str, *, albums: Albums, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        settings = albums._settings
        self.function = albums._function(
            "ShareSigningKeyFunction",
            "share_keys.on_event",
            "Custom resource: makes a generation's CloudFront key pair into its secret",
            timeout=cdk.Duration.seconds(60),
            group=GROUP,
        )
        self.secrets: dict[str, secretsmanager.Secret] = {}
        self.public_keys: dict[str, cloudfront.PublicKey] = {}
        for generation in settings.signing_key_generations:
            secret = secretsmanager.Secret(
                self,
                f"ShareSigningSecret{generation}",
                description=f"FaceFlow share URL signing key, generation {generation}",
                encryption_key=key,
                removal_policy=settings.cdk_removal_policy,
            )
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Rotated by key generations (share_signing_key_generations, RUNBOOK.md): the "
                "public half must be registered in CloudFront with it, which a secret rotation "
                "alone cannot do.",
            )
            made = cdk.CustomResource(
                self,
                f"ShareSigningKey{generation}",
                service_token=self.function.function.function_arn,
                resource_type="Custom::ShareSigningKey",
                properties={"SecretId": secret.secret_arn, "Generation": generation},
            )
            self.public_keys[generation] = cloudfront.PublicKey(
                self,
                f"ShareSigningPublicKey{generation}",
                encoded_key=made.get_att_string("PublicKey"),
                comment=f"FaceFlow shares, generation {generation}",
            )
            self.secrets[generation] = secret
        self.function.allow(
            "WriteSigningKeys",
            ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
            [s.secret_arn for s in self.secrets.values()],
        )
        self.key_group = cloudfront.KeyGroup(
            self, "ShareKeyGroup", items=list(self.public_keys.values())
        )
        self.active = settings.signing_key_generations[-1]

    @property
    def signer_environment(self) -> dict[AlbumEnv, str]:
        return {
            AlbumEnv.SHARE_KEY_PAIR_ID: self.public_keys[self.active].public_key_id,
            AlbumEnv.SHARE_SIGNING_SECRET: self.secrets[self.active].secret_arn,
        }


class ShareDistribution(Component):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        exports: s3.IBucket,
        key_group: cloudfront.IKeyGroup,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        # Standard logging writes with ACLs: a log bucket of its own that allows them.
        self.logs = AccessLogBucket(
            self, "ShareDistributionLogs", settings=settings, keep_days=90, acl_writes=True
        )
        self.distribution = cloudfront.Distribution(
            self,
            "ShareDistribution",
            comment="FaceFlow shares: signed URLs only",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    exports, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                trusted_key_groups=[key_group],
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        _acknowledge_distribution(self.distribution)


_NO_WAF = (
    "CloudFront refuses every request without a valid signature from the key group before "
    "it reaches the origin; a CLOUDFRONT-scope web ACL lives in us-east-1, outside this "
    "regional app (add one with web_acl_id when the account has it)."
)
_DEFAULT_CERTIFICATE = (
    "The distribution serves its *.cloudfront.net name with CloudFront's default "
    "certificate, whose TLS policy cannot be raised; a custom domain and certificate "
    "would allow TLSv1.2_2021."
)


def _acknowledge_distribution(distribution: cloudfront.Distribution) -> None:
    acknowledge(
        distribution,
        "AwsSolutions-CFR1",
        "Shares go to recipients wherever they are; every URL is signed and expires with its "
        "share, so a geographic restriction would only refuse legitimate recipients.",
    )
    acknowledge(distribution, "AwsSolutions-CFR2", _NO_WAF)
    acknowledge(distribution, "AwsSolutions-CFR4", _DEFAULT_CERTIFICATE)
    skip_checkov(distribution, "CKV_AWS_68", _NO_WAF)
    skip_checkov(distribution, "CKV_AWS_174", _DEFAULT_CERTIFICATE)


class ShareMail(Component):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        self.sender = settings.share_sender_email
        self.identity = ses.EmailIdentity(
            self, "ShareSender", identity=ses.Identity.email(self.sender)
        )
        self.template_name = f"{settings.project_name}-share"
        ses.CfnTemplate(
            self,
            "ShareTemplate",
            template=ses.CfnTemplate.TemplateProperty(
                template_name=self.template_name,
                subject_part=TEMPLATE["SubjectPart"],
                text_part=TEMPLATE["TextPart"],
                html_part=TEMPLATE["HtmlPart"],
            ),
        )

    def grant_send(self, fn: ProjectFunction) -> None:
        stack = cdk.Stack.of(self)
        arn = stack.format_arn(
            service="ses",
            resource="identity",
            resource_name=self.sender,
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        template = stack.format_arn(
            service="ses",
            resource="template",
            resource_name=self.template_name,
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        fn.allow(
            "SendShareEmails",
            ["ses:SendTemplatedEmail"],
            [arn, template],
            conditions={"StringEquals": {"ses:FromAddress": self.sender}},
        )


class ShareExport(Component):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        make_function: Callable[..., ProjectFunction],
        environment: Mapping[AlbumEnv, str],
        operations_topic: sns.ITopic,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        # The stack key, as every queue: the requests name users and albums.
        self.dead_letter_queue = DeadLetterQueue(
            self,
            "ShareExportDeadLetterQueue",
            settings=settings,
            of="the share export queue's redrive target",
        )
        self.queue = sqs.Queue(
            self,
            "ShareExportQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.dead_letter_queue.encryption_master_key,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(6 * EXPORT_TIMEOUT_S),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=EXPORT_ATTEMPTS
            ),
        )
        self.function = make_function(
            "ShareExportFunction",
            "share_steps.export",
            "Share exporter: the ZIP (streamed multipart), the photos' copies, the emails",
            memory_size=1024,
            timeout=cdk.Duration.seconds(EXPORT_TIMEOUT_S),
            environment={**environment, AlbumEnv.SHARE_EXPORT_ATTEMPTS: str(EXPORT_ATTEMPTS)},
            group=GROUP,
        )
        self.function.function.add_event_source(sources.SqsEventSource(self.queue, batch_size=1))
        alarm = cw.Alarm(
            self,
            "ShareExportDeadLetterDepth",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="Share exports that failed every attempt",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(operations_topic))


class AlbumSharing(Component):
    """Sharing's parts and the grants between them and the album resources."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        albums: Albums,
        operations_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        settings, storage = albums._settings, albums.storage
        self.keys = ShareSigningKeys(self, "Keys", albums=albums, key=storage.key)
        self.distribution = ShareDistribution(
            self,
            "Delivery",
            exports=storage.buckets["Exports"],
            key_group=self.keys.key_group,
            settings=settings,
        ).distribution
        self.mail = ShareMail(self, "Mail", settings=settings)
        env = self._environment(settings)
        self.export = ShareExport(
            self,
            "Export",
            make_function=albums._function,
            environment=env,
            operations_topic=operations_topic,
            settings=settings,
        )
        env[AlbumEnv.SHARE_QUEUE_URL] = self.export.queue.queue_url
        self.api = albums._function(
            SHARE_FUNCTION,
            f"{API_MODULE}.handler",
            "Share API: share people's photos, read a share's signed URLs, revoke",
            memory_size=512,
            timeout=cdk.Duration.seconds(29),
            environment={**env, EnvVar.CORS_ALLOWED_ORIGINS: settings.cors_allowed_origins},
            group=GROUP,
            image=True,  # choosing a share's photos asks the people backend (numpy, faiss)
        )
        self._grant(albums)
        self.api_functions: Mapping[str, lambda_.IFunction] = {SHARE_FUNCTION: self.api.function}

    def _environment(self, settings: Settings) -> dict:
        return {
            AlbumEnv.SHARE_LIMIT_PER_HOUR: str(settings.share_limit_per_hour),
            AlbumEnv.SHARE_MAX_PHOTOS: str(settings.share_max_photos),
            AlbumEnv.SHARE_DEFAULT_EXPIRY_DAYS: str(settings.share_default_expiry_days),
            AlbumEnv.SHARE_MAX_EXPIRY_DAYS: str(settings.album_export_expiry_days),
            AlbumEnv.SHARE_PART_SIZE_BYTES: str(settings.share_part_size_bytes),
            AlbumEnv.SHARE_DOMAIN: self.distribution.distribution_domain_name,
            AlbumEnv.SHARE_SENDER: self.mail.sender,
            AlbumEnv.SHARE_TEMPLATE: self.mail.template_name,
            **self.keys.signer_environment,
        }

    def _grant(self, albums: Albums) -> None:
        raw, exports = albums.storage.raw, albums.storage.buckets["Exports"]
        secret = [self.keys.secrets[self.keys.active].secret_arn]
        api, exporter = self.api, self.export.function
        # The share API: share items and their lookups (and the people it reads), the export
        # request, a READY share's manifest and signed URLs, a revoked share's objects.
        albums._table(api, "GetItem", "PutItem", "UpdateItem", "Query")
        grants.objects(api, "ReadPeopleState", ["s3:GetObject"], albums.storage.embeddings)
        grants.listing(api, "ListPeopleState", "s3:ListBucket", albums.storage.embeddings)
        queue = self.export.queue
        api.allow("RequestExports", ["sqs:SendMessage"], [queue.queue_arn])
        api.allow(
            "EncryptExportRequests",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            [queue.encryption_master_key.key_arn],
        )
        api.allow("ReadSigningKey", ["secretsmanager:GetSecretValue"], secret)
        grants.objects(api, "ReadShareManifests", ["s3:GetObject"], exports)
        grants.prefix_deletion(api, exports)
        # The exporter: photo and share items, originals in, archive / copies / manifest out
        # (a failed or revoked build deletes them), the signed link and the emails.
        albums._table(exporter, "GetItem", "UpdateItem", "Query")
        grants.objects(exporter, "ReadOriginals", ["s3:GetObject"], raw)
        grants.listing(exporter, "ListOriginals", "s3:ListBucket", raw)  # gone: 404, not 403
        grants.objects(
            exporter,
            "WriteShareObjects",
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
            exports,
        )
        grants.prefix_deletion(exporter, exports)
        exporter.allow("ReadSigningKey", ["secretsmanager:GetSecretValue"], secret)
        self.mail.grant_send(exporter)
