"""local.moto_dynamodb: moto's transactions backed up item by item, with moto's answers."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.moto_dynamodb import cheap_transactions


@pytest.fixture
def table(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    cheap_transactions()
    with mock_aws():
        ddb = boto3.resource("dynamodb")
        yield ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "ps"],
            KeySchema=[
                {"AttributeName": "p", "KeyType": "HASH"},
                {"AttributeName": "s", "KeyType": "RANGE"},
            ],
        )


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table):
    client = table.meta.client
    table.put_item(Item={"p": "a", "s": "1", "v": "old"})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"p": "a", "s": "1", "v": "new"}}},
                {"Put": {"TableName": "t", "Item": {"p": "a", "s": "2", "v": "new"}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"p": "b", "s": "1"},
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_exists(p)",  # fails: no such item
                        "ExpressionAttributeValues": {":v": "x"},
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    items = {(i["p"], i["s"]): i.get("v") for i in table.scan()["Items"]}
    assert items == {("a", "1"): "old"}  # the put undone, the new item gone, nothing added


def test_a_transaction_that_holds_writes_every_part(table):
    table.meta.client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"p": "a", "s": str(i)}}} for i in range(50)
        ]
    )
    assert table.scan(Select="COUNT")["Count"] == 50
