"""What an upload may be: the selfie's media types (each stored under its own extension) and how
many styles one process may request."""

from __future__ import annotations

MAX_STYLES_PER_UPLOAD = 4

# The selfie media types accepted, and the extension the upload key gets for each.
# HEIC (iPhones; "image/heif" is the same container's other name) and AVIF are what phones send.
UPLOAD_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
}
