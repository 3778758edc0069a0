"""Why an image or a face is refused, in words a client can show.

Decoding and detection raise `Failure` with a `Reason` code; each system records it as the
`error` of its own item (a styling process, a FaceFlow photo). No boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """`error.code` values of image and face failures (docs/architecture.md)."""

    NO_FACE = "NO_FACE"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    UNREADABLE_IMAGE = "UNREADABLE_IMAGE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"


@dataclass(frozen=True)
class Failure(Exception):
    """A reason a client can show: `code` from docs/architecture.md, `message` for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_item(self) -> dict[str, str]:
        return {"code": str(self.code), "message": self.message}
