"""The one error model: what a product's domain refuses, as a stable `code` (the `error.code`
clients see) and a message a client can show. No HTTP status here: `common.api.STATUS` alone maps
codes to statuses."""

from __future__ import annotations


class DomainError(Exception):
    code = "REFUSED"

    def __init__(self, message: str, code: str | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        # Seconds until the refusal may be lifted (a rate limit's window), where it has them.
        self.retry_after = retry_after


class NotFound(DomainError):
    """No such thing, or not the caller's (indistinguishable on purpose)."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """The request contradicts the current state."""

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
