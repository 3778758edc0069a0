"""Why a styling process or a style fails, and what the styling flow refuses.

Failures (`Failure` with a `Reason`) are stored on the Process for a client to show: the image and
face codes are `facekit.errors.Reason`'s, the styling flow adds its own three. The container raises
the same Failure (it imports this module, without boto3).

Refusals are `common.errors.DomainError`s: a code and a message, no HTTP status
(`common.api.STATUS` maps codes to statuses).
"""

from __future__ import annotations

from enum import StrEnum

from common.errors import DomainError, NotSignedIn
from facekit.errors import Failure
from facekit.errors import Reason as ImageReason

__all__ = ["Failure", "InactiveAccount", "NotConsented", "Reason", "UnknownStyle"]

# `error.code` values (docs/architecture.md): facekit's, then the flow's own (CROP_FAILED: the
# crop's event failed every retry without a reason of the picture's own).
Reason = StrEnum(
    "Reason",
    {
        **{member.name: member.value for member in ImageReason},
        "CROP_FAILED": "CROP_FAILED",
        "SWAP_FAILED": "SWAP_FAILED",
        "STYLE_NOT_FOUND": "STYLE_NOT_FOUND",
    },
)


class NotConsented(DomainError):
    """The user has not accepted the current terms."""

    code = "CONSENT_REQUIRED"


class UnknownStyle(DomainError):
    """A requested style does not exist or is not active."""

    code = "UNKNOWN_STYLE"


class InactiveAccount(NotSignedIn):
    """The token is valid, but its account was deleted or disabled since it was issued."""
