"""Image formats by their magic bytes. No numpy or Pillow here: functions that only need to know
what a file is (the swap completion) import this without the imaging layer."""

from __future__ import annotations

JPEG, PNG, WEBP = "JPEG", "PNG", "WEBP"
ALLOWED_FORMATS = (JPEG, PNG, WEBP)
CONTENT_TYPES = {JPEG: "image/jpeg", PNG: "image/png", WEBP: "image/webp"}


def sniff_format(data: bytes) -> str | None:
    """JPEG, PNG or WEBP from the magic bytes; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None
