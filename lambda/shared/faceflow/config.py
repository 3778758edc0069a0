"""FaceFlow albums' runtime settings: each one environment variable, named once here.

The album stack (stacks/albums) sets them from the CDK context; the local runtime reads them from
the synthesized template. Missing required settings are deployment errors, never client errors.
"""

from __future__ import annotations

from enum import StrEnum

from common.config import get, get_int

__all__ = ["MAX_PHOTO_BYTES_CEILING", "AlbumEnv", "get", "get_int"]


class AlbumEnv(StrEnum):
    TABLE = "ALBUM_TABLE"
    RAW_BUCKET = "ALBUM_RAW_BUCKET"
    DERIVED_BUCKET = "ALBUM_DERIVED_BUCKET"
    EMBEDDINGS_BUCKET = "ALBUM_EMBEDDINGS_BUCKET"
    EXPORTS_BUCKET = "ALBUM_EXPORTS_BUCKET"
    STATE_MACHINE_ARN = "ALBUM_STATE_MACHINE_ARN"
    NOTIFY_TOPIC_ARN = "ALBUM_NOTIFY_TOPIC_ARN"
    # The album's one clustering writer's FIFO queue (faceflow.edge.clusterer): a large album's
    # recluster is asked of it.
    CLUSTER_QUEUE_URL = "ALBUM_CLUSTER_QUEUE_URL"
    MAX_PHOTO_BYTES = "ALBUM_MAX_PHOTO_BYTES"
    # Files up to this size get one presigned PUT; larger ones S3 multipart with parts this big.
    PART_SIZE_BYTES = "ALBUM_PART_SIZE_BYTES"
    UPLOAD_URL_EXPIRY_SECONDS = "ALBUM_UPLOAD_URL_EXPIRY_SECONDS"
    THUMBNAIL_URL_EXPIRY_SECONDS = "ALBUM_THUMBNAIL_URL_EXPIRY_SECONDS"
    # Sharing (faceflow.edge.shares, faceflow.edge.exporter, faceflow.storage.signing_keys).
    SHARE_QUEUE_URL = "SHARE_QUEUE_URL"  # export requests, one message per share
    SHARE_LIMIT_PER_HOUR = "SHARE_LIMIT_PER_HOUR"  # shares a user may create per hour
    SHARE_MAX_PHOTOS = "SHARE_MAX_PHOTOS"
    SHARE_DEFAULT_EXPIRY_DAYS = "SHARE_DEFAULT_EXPIRY_DAYS"
    SHARE_MAX_EXPIRY_DAYS = "SHARE_MAX_EXPIRY_DAYS"  # the exports bucket's object lifetime
    SHARE_PART_SIZE_BYTES = "SHARE_PART_SIZE_BYTES"  # the archive's multipart part size
    SHARE_EXPORT_ATTEMPTS = "SHARE_EXPORT_ATTEMPTS"  # the export queue's maxReceiveCount
    SHARE_DOMAIN = "SHARE_DOMAIN"  # the CloudFront distribution's domain name
    # The scheme of share URLs: https (CloudFront); the local runtime's front speaks http.
    SHARE_URL_SCHEME = "SHARE_URL_SCHEME"
    SHARE_KEY_PAIR_ID = "SHARE_KEY_PAIR_ID"  # the CloudFront public key that verifies
    # The Secrets Manager secret holding the signing private key.
    SHARE_SIGNING_SECRET = "SHARE_SIGNING_SECRET"  # pragma: allowlist secret (a name)
    SHARE_SENDER = "SHARE_SENDER"  # the SES identity emails come from
    SHARE_TEMPLATE = "SHARE_TEMPLATE"  # the SES template of the share email


# The largest photo any deployment takes (album_max_photo_bytes may be less, never more): the
# API document's maximum for an upload's size, and the setting's default.
MAX_PHOTO_BYTES_CEILING = 50 * 1024 * 1024
