"""The local AWS (moto's server, `local/motoserver.py`) under the album pipeline's concurrency
(issue 25 item 8): moto's DynamoDB is not thread-safe, and the runtime must not lean on botocore's
retries to hide it."""

from __future__ import annotations

import sys

import pytest

from local.motoserver import MotoServer
from tests.dynamodb_load import one_partition_load

pytestmark = pytest.mark.e2e


@pytest.fixture
def moto_server():
    server = MotoServer()
    server.start()
    yield server
    server.stop()


def test_concurrent_writes_and_queries_on_one_partition_get_no_server_error(moto_server):
    """Without the runtime's DynamoDB lock, moto's Query iterates a table's items while a PutItem
    adds one ("RuntimeError: dictionary changed size during iteration", an HTTP 500) a few times
    in these 800 calls; with it, never."""
    switch_interval = sys.getswitchinterval()
    # Threads switch every microsecond instead of every 5 ms: a race the pipeline hits now and
    # then shows in every run of a few seconds.
    sys.setswitchinterval(1e-6)
    try:
        result = one_partition_load(moto_server.url, clients=32, calls=800, items=500)
    finally:
        sys.setswitchinterval(switch_interval)
    assert result.server_errors == []
    assert len(result.latencies_s) == 800


def _table_with_partitions(ddb) -> str:
    """PK/SK with a local index (LSI1SK) and a global one (GSI1): 3 partitions of 7 items."""
    names = ("PK", "SK", "LSI1SK", "GSI1PK")
    ddb.create_table(
        TableName="partitions",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "LSI1",
                "KeySchema": [
                    {"AttributeName": "PK", "KeyType": "HASH"},
                    {"AttributeName": "LSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for p in range(3):
        for i in range(7):
            item = {"PK": f"P{p}", "SK": f"S{i}", "LSI1SK": f"L{6 - i}", "GSI1PK": f"G{i % 2}"}
            ddb.put_item(TableName="partitions", Item={k: {"S": v} for k, v in item.items()})
    return "partitions"


def test_a_query_reads_its_partition_only_and_answers_as_moto_does(moto_server):
    """local.motoserver hands moto's Query one partition's items instead of the whole table (the
    local pipeline slowed as the table grew): the answers are those of the whole walk — the
    partition in key order, either direction, paged, by a local index, and a global index
    still across partitions."""
    from tests.dynamodb_load import client

    ddb = client(moto_server.url, 1)
    table = _table_with_partitions(ddb)

    def query(**kwargs) -> list[tuple[str, str]]:
        pages, start = [], {}
        while True:
            page = ddb.query(TableName=table, **kwargs, **start)
            pages += [(i["PK"]["S"], i["SK"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return pages
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    p1 = {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "P1"}}}
    assert query(**p1) == [("P1", f"S{i}") for i in range(7)]
    assert query(**p1, ScanIndexForward=False) == [("P1", f"S{i}") for i in reversed(range(7))]
    assert query(**p1, Limit=3) == [("P1", f"S{i}") for i in range(7)]  # three pages
    assert query(**p1, IndexName="LSI1") == [("P1", f"S{i}") for i in reversed(range(7))]
    after = {
        "KeyConditionExpression": "PK = :p AND SK > :s",
        "ExpressionAttributeValues": {":p": {"S": "P2"}, ":s": {"S": "S4"}},
    }
    assert query(**after) == [("P2", "S5"), ("P2", "S6")]
    nowhere = {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "X"}}}
    assert query(**nowhere) == []
    g0 = {"KeyConditionExpression": "GSI1PK = :g", "ExpressionAttributeValues": {":g": {"S": "G0"}}}
    assert sorted(query(**g0, IndexName="GSI1")) == [
        (f"P{p}", f"S{i}") for p in range(3) for i in (0, 2, 4, 6)
    ]
