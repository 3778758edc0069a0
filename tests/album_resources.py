"""The album table and buckets as stacks/albums declares them, for tests on moto (decorator
mode): the album API's own tests and the whole-API tests (schemathesis reaches the album routes,
the user erasure the album table)."""

from __future__ import annotations

from typing import Any

TABLE = "Albums-Test"
BUCKETS = {
    "ALBUM_RAW_BUCKET": "albums-raw",
    "ALBUM_DERIVED_BUCKET": "albums-derived",
    "ALBUM_EMBEDDINGS_BUCKET": "albums-embeddings",
    "ALBUM_EXPORTS_BUCKET": "albums-exports",
}
ENV = {
    "ALBUM_TABLE": TABLE,
    **BUCKETS,
    "ALBUM_MAX_PHOTO_BYTES": str(50 * 1024 * 1024),
    "ALBUM_PART_SIZE_BYTES": str(5 * 1024 * 1024),
    "ALBUM_UPLOAD_URL_EXPIRY_SECONDS": "900",
}


def _index(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def create_album_resources(s3: Any, dynamodb: Any) -> None:
    for bucket in BUCKETS.values():
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
    names = ("PK", "SK", "LSI1SK", "GSI1PK", "GSI1SK")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        LocalSecondaryIndexes=[_index("LSI1", "PK", "LSI1SK")],
        GlobalSecondaryIndexes=[_index("GSI1", "GSI1PK", "GSI1SK")],
    )


def empty_album_resources(s3: Any, dynamodb: Any) -> None:
    """s3 and dynamodb are boto3 resources."""
    for bucket in BUCKETS.values():
        s3.Bucket(bucket).object_versions.all().delete()
        s3.Bucket(bucket).objects.all().delete()
    table = dynamodb.Table(TABLE)
    with table.batch_writer() as batch:
        for item in table.scan()["Items"]:
            batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
