"""ARNs and conditions for the least-privilege statements every stack writes."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_s3 as s3


def object_arns(bucket: s3.IBucket, *prefixes: str) -> list[str]:
    """ARNs of the objects under each key prefix (`uploads/` → `…/uploads/*`)."""
    return [bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]


def prefix_condition(*prefixes: str) -> dict[str, dict[str, list[str]]]:
    """s3:ListBucket limited to key prefixes (`uploads/` → `uploads/*`). Listing is what lets S3
    answer a missing key with 404 rather than 403, so code can tell "gone" from "refused"."""
    return {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}


def index_arn(table: ddb.ITable, index: str) -> str:
    return f"{table.table_arn}/index/{index}"
