"""POST /apis/images/upload: a Process and a presigned POST for its selfie.

The browser (or app) posts the file straight to S3; the policy signed here is what S3 enforces:
the exact key, the declared content type, a size range. Face crop checks type and size again
because a policy only binds what the client declared.
"""

from __future__ import annotations

from typing import Any

from common import aws
from style_backend import config, keys
from style_backend.agreements import AgreementStore
from style_backend.config import EnvVar
from style_backend.process import ProcessStore
from style_backend.styles import StyleCatalog

MAX_STYLES_PER_UPLOAD = 4


def presigned_upload(key: str, content_type: str) -> dict[str, Any]:
    """A presigned POST bound to `key`, `content_type` and 1..MAX_UPLOAD_BYTES bytes."""
    max_bytes = config.max_upload_bytes()
    return aws.client("s3").generate_presigned_post(
        Bucket=config.get(EnvVar.BUCKET_NAME),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=config.get_int(EnvVar.UPLOAD_URL_EXPIRY_SECONDS, 300),
    )


def start_upload(user_id: str, content_type: str, resource_ids: list[str]) -> dict[str, Any]:
    """Check consent and styles, create the CREATED Process, return the upload ticket."""
    AgreementStore().require_current(user_id)
    StyleCatalog().require_active(resource_ids)
    process = ProcessStore().create(
        user_id,
        resource_ids,
        lambda process_id: keys.upload_key(user_id, process_id, content_type),
        config.get_int(EnvVar.PROCESS_TTL_DAYS, 30),
    )
    return {
        "processId": process["processId"],
        "upload": presigned_upload(process["sourceKey"], content_type),
        "expiresIn": config.get_int(EnvVar.UPLOAD_URL_EXPIRY_SECONDS, 300),
    }
