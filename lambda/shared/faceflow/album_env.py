"""FaceFlow albums' runtime settings: each one environment variable, named once here.

The album stack (stacks/albums) sets them from the CDK context; the local runtime reads them from
the synthesized template. Missing required settings are deployment errors, never client errors.
"""

from __future__ import annotations

import os
from enum import StrEnum


class AlbumEnv(StrEnum):
    TABLE = "ALBUM_TABLE"
    RAW_BUCKET = "ALBUM_RAW_BUCKET"
    DERIVED_BUCKET = "ALBUM_DERIVED_BUCKET"
    EMBEDDINGS_BUCKET = "ALBUM_EMBEDDINGS_BUCKET"
    EXPORTS_BUCKET = "ALBUM_EXPORTS_BUCKET"
    STATE_MACHINE_ARN = "ALBUM_STATE_MACHINE_ARN"
    NOTIFY_TOPIC_ARN = "ALBUM_NOTIFY_TOPIC_ARN"
    MAX_PHOTO_BYTES = "ALBUM_MAX_PHOTO_BYTES"
    # Files up to this size get one presigned PUT; larger ones S3 multipart with parts this big.
    PART_SIZE_BYTES = "ALBUM_PART_SIZE_BYTES"
    UPLOAD_URL_EXPIRY_SECONDS = "ALBUM_UPLOAD_URL_EXPIRY_SECONDS"
    THUMBNAIL_URL_EXPIRY_SECONDS = "ALBUM_THUMBNAIL_URL_EXPIRY_SECONDS"


class AlbumConfigError(RuntimeError):
    """A required album setting is missing."""


def get(name: AlbumEnv) -> str:
    value = os.environ.get(name.value, "")
    if not value:
        raise AlbumConfigError(f"environment variable {name.value} is not set")
    return value


def get_int(name: AlbumEnv) -> int:
    return int(get(name))
