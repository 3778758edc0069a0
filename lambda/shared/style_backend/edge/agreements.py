"""GET and POST /agree: whether the caller accepted the current terms, and accepting them. The
current version is configuration (TERMS_VERSION); the rules are style_backend.domain.agreements."""

from __future__ import annotations

from typing import Any

from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain import agreements
from style_backend.storage.agreements import AgreementStore


def current_terms_version() -> str:
    return config.get(EnvVar.TERMS_VERSION)


def status(user_id: str) -> dict[str, Any]:
    """Whether the user accepted the *current* terms."""
    version = current_terms_version()
    return agreements.status_view(version, AgreementStore().find(user_id, version))


def agree(user_id: str, terms_version: str, source_ip: str, user_agent: str) -> dict[str, Any]:
    """Record consent to `terms_version`, which must be the current one (Conflict otherwise).
    Agreeing twice keeps the first record and returns it."""
    current = current_terms_version()
    agreements.require_current_version(terms_version, current)
    record = agreements.new_record(user_id, current, source_ip, user_agent)
    return agreements.record_view(AgreementStore().add_first(record))


def require_current(user_id: str) -> None:
    """NotConsented unless the user accepted the current terms."""
    agreements.require_consent(AgreementStore().find(user_id, current_terms_version()))
