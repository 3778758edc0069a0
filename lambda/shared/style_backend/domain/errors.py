"""Reasons a styling process or a style fails, in words a client can show.

The image and face codes are `facekit.errors.Reason`'s; the styling flow adds its own three. Kept
apart from process.py so that the container raises the same Failure without importing boto3.
"""

from __future__ import annotations

from enum import StrEnum

from facekit.errors import Failure
from facekit.errors import Reason as ImageReason

__all__ = ["Failure", "Reason"]

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
