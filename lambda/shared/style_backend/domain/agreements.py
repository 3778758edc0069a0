"""User agreement rules: who accepted which terms version, when, from where.

The current version is configuration (TERMS_VERSION); raising it makes every user agree again,
since a record only counts for the version it names. Records are never overwritten: the first
acceptance of a version (time, IP, user agent) is the evidence kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.errors import Conflict
from style_backend.domain.errors import NotConsented
from style_backend.domain.process import now_iso

MAX_USER_AGENT = 512  # characters of the user agent kept as evidence


def require_current_version(terms_version: str, current: str) -> None:
    """Conflict unless the user accepts the current version."""
    if terms_version != current:
        raise Conflict(
            f"Terms version {terms_version!r} is not the current one ({current!r}).",
            "TERMS_VERSION_MISMATCH",
        )


def new_record(user_id: str, current: str, source_ip: str, user_agent: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "termsVersion": current,
        "agreedAt": now_iso(),
        "sourceIp": source_ip,
        "userAgent": user_agent[:MAX_USER_AGENT],
    }


def record_view(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"termsVersion": record["termsVersion"], "agreedAt": record["agreedAt"]}


def status_view(current: str, record: Mapping[str, Any] | None) -> dict[str, Any]:
    """Whether the user accepted the *current* terms."""
    return {
        "agreed": record is not None,
        "termsVersion": current,
        "agreedAt": record["agreedAt"] if record else None,
    }


def require_consent(record: Mapping[str, Any] | None) -> None:
    """NotConsented unless there is a record of the current terms."""
    if record is None:
        raise NotConsented("Accept the current user agreement (POST /agree) first.")
