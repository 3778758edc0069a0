"""POST /apis/images/upload: a Process and a presigned POST for its selfie.

The browser (or app) posts the file straight to S3; the policy signed here is what S3 enforces:
the exact key, the declared content type, a size range. Face crop checks type and size again
because a policy only binds what the client declared.
"""

from __future__ import annotations

from typing import Any

from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain import styles
from style_backend.edge import agreements
from style_backend.storage import keys, objects
from style_backend.storage.processes import ProcessStore
from style_backend.storage.styles import StyleCatalog


def start_upload(user_id: str, content_type: str, resource_ids: list[str]) -> dict[str, Any]:
    """Check consent and styles, create the CREATED Process, return the upload ticket."""
    agreements.require_current(user_id)
    styles.require_active(resource_ids, StyleCatalog().find(resource_ids))
    process = ProcessStore().create(
        user_id,
        resource_ids,
        lambda process_id: keys.upload_key(user_id, process_id, content_type),
        config.get_int(EnvVar.PROCESS_TTL_DAYS, 30),
    )
    return {
        "processId": process["processId"],
        "upload": objects.presigned_upload(process["sourceKey"], content_type),
        "expiresIn": objects.upload_url_expiry(),
    }
