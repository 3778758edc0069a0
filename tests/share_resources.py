"""What the sharing stack declares besides the album resources, for tests on moto (decorator
mode): the export queue, the SES sender and template (faceflow.domain.share_mail.TEMPLATE), the
signing key's secret filled by the real custom-resource code (faceflow.edge.signing_keys.key_pair),
and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faceflow.domain.share_mail import TEMPLATE

KEY_PAIR_ID = "K2JCJMDEHXQW5F"
DOMAIN = "d111111abcdef8.cloudfront.net"
SECRET = "share-signing-key-1"  # pragma: allowlist secret (a name)
SENDER = "shares@example.com"
TEMPLATE_NAME = "ShareTemplate"
ENV = {
    "SHARE_LIMIT_PER_HOUR": "10",
    "SHARE_MAX_PHOTOS": "2000",
    "SHARE_DEFAULT_EXPIRY_DAYS": "3",
    "SHARE_MAX_EXPIRY_DAYS": "7",
    "SHARE_PART_SIZE_BYTES": str(5 * 1024 * 1024),
    "SHARE_EXPORT_ATTEMPTS": "3",
    "SHARE_DOMAIN": DOMAIN,
    "SHARE_KEY_PAIR_ID": KEY_PAIR_ID,
    "SHARE_SIGNING_SECRET": SECRET,
    "SHARE_SENDER": SENDER,
    "SHARE_TEMPLATE": TEMPLATE_NAME,
}


@dataclass(frozen=True)
class Sharing:
    queue_url: str
    public_keys: dict[str, str]  # what the distribution's key group trusts: key id → PEM


def create_share_resources(sqs: Any, ses: Any, secrets: Any, monkeypatch: Any) -> Sharing:
    from faceflow.edge import signing_keys

    queue_url = sqs.create_queue(QueueName="share-exports")["QueueUrl"]
    monkeypatch.setenv("SHARE_QUEUE_URL", queue_url)
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(Template={"TemplateName": TEMPLATE_NAME, **TEMPLATE})
    secrets.create_secret(Name=SECRET, SecretString="placeholder")  # pragma: allowlist secret
    public = signing_keys.key_pair(SECRET, "1")
    return Sharing(queue_url, {KEY_PAIR_ID: public})


def sent_emails() -> list[Any]:
    """moto's record of the templated emails SES sent."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-west-2"].sent_messages)
