"""What the domain refuses, in domain terms: no HTTP status here (the API edge maps these).

Each exception carries a stable `code` (the `error.code` clients see) and a message a client can
show; `style_backend.api.edge` decides the status of each class.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "REFUSED"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotConsented(DomainError):
    """The user has not accepted the current terms."""

    code = "CONSENT_REQUIRED"


class UnknownStyle(DomainError):
    """A requested style does not exist or is not active."""

    code = "UNKNOWN_STYLE"


class NotFound(DomainError):
    """No such thing, or not the caller's (indistinguishable on purpose)."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """The request contradicts the current state (another terms version…)."""

    code = "CONFLICT"


class InvalidToken(DomainError):
    """A pagination token that is malformed or belongs to another listing."""

    code = "INVALID_TOKEN"


class NotYours(DomainError):
    """The path names another user."""

    code = "FORBIDDEN"


class NotSignedIn(DomainError):
    """No verified identity came with the request."""

    code = "UNAUTHORIZED"
