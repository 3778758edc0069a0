"""What an upload may be: the photo types taken, the size limit, and how many parts a
multipart upload of a given size has."""

from __future__ import annotations

import math

from faceflow.domain.errors import UnsupportedType, UploadTooLarge

# What phones send too: HEIC (iPhones; "image/heif" is the same container's other name) and AVIF.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
}
MAX_PARTS = 10_000  # S3's limit


def check_upload(content_type: str, size: int, limit: int) -> None:
    """UnsupportedType (415) or UploadTooLarge (413) for what no album takes."""
    if content_type not in EXTENSIONS:
        raise UnsupportedType(f"{content_type} is not supported: upload {', '.join(EXTENSIONS)}.")
    if size > limit:
        raise UploadTooLarge(f"The file is {size} bytes; the limit is {limit} bytes.")


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def parts_of(size: int, part_size: int) -> int:
    """The parts of a multipart upload of `size` bytes; UploadTooLarge past S3's MAX_PARTS."""
    parts = part_count(size, part_size)
    if parts > MAX_PARTS:
        raise UploadTooLarge(f"{parts} parts of {part_size} bytes exceed S3's {MAX_PARTS}.")
    return parts
