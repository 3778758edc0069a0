"""What the styling domain refuses beyond `common.errors`: a code and a message, no HTTP status
(`common.api.STATUS` maps codes to statuses)."""

from __future__ import annotations

from common.errors import DomainError


class NotConsented(DomainError):
    """The user has not accepted the current terms."""

    code = "CONSENT_REQUIRED"


class UnknownStyle(DomainError):
    """A requested style does not exist or is not active."""

    code = "UNKNOWN_STYLE"
