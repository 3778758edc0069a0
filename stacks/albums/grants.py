"""The album stack's statements on album objects, shared by its parts (the album API, the
pipeline, sharing): objects under tenant/ only, listing under tenant/ only; and, in the raw
bucket, the uploads under incoming/tenant/ (faceflow.storage.keys) for those that handle them."""

from __future__ import annotations

from aws_cdk import aws_s3 as s3

from faceflow.storage.keys import INCOMING, TENANT
from stacks.shared import ProjectFunction

TENANT_OBJECTS = f"{TENANT}/*"
UPLOAD_OBJECTS = f"{INCOMING}/{TENANT_OBJECTS}"  # the raw bucket's uploads, before the starter
KMS_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
_WILDCARD = (
    "Objects under tenant/ only: every album key is tenant/{userId}/{albumId}/…, and which "
    "user's prefix a request may touch is decided per request by the owner check."
)


def _arn(bucket: s3.IBucket | str) -> str:
    return bucket if isinstance(bucket, str) else bucket.bucket_arn


def objects(
    fn: ProjectFunction,
    sid: str,
    actions: list[str],
    *buckets: s3.IBucket | str,
    under: str = TENANT_OBJECTS,
) -> None:
    arns = [f"{_arn(b)}/{under}" for b in buckets]
    fn.allow(sid, actions, arns, wildcard_reason=_WILDCARD)


def listing(
    fn: ProjectFunction,
    sid: str,
    action: str,
    *buckets: s3.IBucket | str,
    under: str = TENANT_OBJECTS,
) -> None:
    # ListBucket under one prefix only; ListBucketMultipartUploads takes no prefix condition.
    conditions = {"StringLike": {"s3:prefix": [under]}}
    fn.allow(
        sid,
        [action],
        [_arn(b) for b in buckets],
        conditions=conditions if action == "s3:ListBucket" else None,
    )


def prefix_deletion(
    fn: ProjectFunction, *every: s3.IBucket | str, uploads: s3.IBucket | str | None = None
) -> None:
    """What deleting everything under a prefix needs (faceflow.storage.objects.delete_prefix); with
    `uploads` (the raw bucket), under its incoming/ prefix too (storage.delete_everywhere)."""
    objects(fn, "DeleteAlbumObjects", ["s3:DeleteObject", "s3:AbortMultipartUpload"], *every)
    listing(fn, "ListAlbumObjects", "s3:ListBucket", *every)
    listing(fn, "ListAlbumUploads", "s3:ListBucketMultipartUploads", *every)
    if uploads is not None:
        objects(
            fn,
            "DeleteAlbumIncoming",
            ["s3:DeleteObject", "s3:AbortMultipartUpload"],
            uploads,
            under=UPLOAD_OBJECTS,
        )
        listing(fn, "ListAlbumIncoming", "s3:ListBucket", uploads, under=UPLOAD_OBJECTS)
