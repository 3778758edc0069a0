"""Reasons a process or a style fails, in words a client can show.

Kept apart from process.py so that imaging and faces (also imported by the container) raise the
same Failure without importing boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """`error.code` values (docs/architecture.md)."""

    NO_FACE = "NO_FACE"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    UNREADABLE_IMAGE = "UNREADABLE_IMAGE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    SWAP_FAILED = "SWAP_FAILED"
    STYLE_NOT_FOUND = "STYLE_NOT_FOUND"


@dataclass(frozen=True)
class Failure(Exception):
    """A reason a client can show: `code` from docs/architecture.md, `message` for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_item(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}
