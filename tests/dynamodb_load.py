"""What the album pipeline does to the local DynamoDB, on its own: many clients writing items of one
partition (an album's photos) while others query that partition and its GSI, through a moto
server over HTTP with botocore's retries off, so every server error is counted once (a retry
would hide it). For tests/e2e/test_local_moto.py and benchmarks/bench_local_dynamodb.py."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

PARTITION = "ALBUM#load"


@dataclass
class LoadResult:
    calls: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)  # one line per 5xx answer

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def client(endpoint: str, connections: int) -> Any:
    return boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="us-west-2"
    ).client(
        "dynamodb",
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 0}, max_pool_connections=connections),
    )


def create_table(ddb: Any, items: int) -> str:
    """A table shaped like the album table's photos (PK/SK, GSI1) with `items` in one partition."""
    name = f"load-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for start in range(0, items, 25):
        batch = [{"PutRequest": {"Item": _item(f"old-{i}")}} for i in range(start, start + 25)]
        ddb.batch_write_item(RequestItems={name: batch[: items - start]})
    return name


def _item(photo: str) -> dict[str, Any]:
    return {
        "PK": {"S": PARTITION},
        "SK": {"S": f"PHOTO#{photo}"},
        "GSI1PK": {"S": PARTITION},
        "GSI1SK": {"S": photo},
        "status": {"S": "UPLOADING"},
    }


def _call(ddb: Any, table: str, n: int) -> None:
    """Every call writes or queries the one partition: a put, a query, a put, a GSI query."""
    if n % 2 == 0:
        ddb.put_item(TableName=table, Item=_item(f"new-{n}"))
        return
    index = {"IndexName": "GSI1"} if n % 4 == 3 else {}
    key = "GSI1PK" if index else "PK"
    ddb.query(
        TableName=table,
        KeyConditionExpression=f"{key} = :p",
        ExpressionAttributeValues={":p": {"S": PARTITION}},
        Select="COUNT",
        **index,
    )


def one_partition_load(endpoint: str, clients: int, calls: int, items: int = 0) -> LoadResult:
    """`calls` writes and queries (half each) from `clients` threads at once, on a fresh table
    whose partition holds `items` already."""
    ddb = client(endpoint, clients)
    table = create_table(ddb, items)
    result = LoadResult(calls, 0.0)
    lock = threading.Lock()

    def one(n: int) -> None:
        started = time.perf_counter()
        try:
            _call(ddb, table, n)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500:
                raise
            with lock:
                result.server_errors.append(f"{status} {str(err)[:160]}")
        with lock:
            result.latencies_s.append(time.perf_counter() - started)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(one, n) for n in range(calls)]:
            done.result()
    result.seconds = time.perf_counter() - began
    ddb.delete_table(TableName=table)
    return result
