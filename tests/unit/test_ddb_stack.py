"""The five tables exactly as docs/architecture.md names their keys and indexes."""

from __future__ import annotations

import pytest

from tests.tables import TABLES

# construct id: (key schema, GSIs {name: key schema}, TTL attribute)
EXPECTED = {name: spec[:3] for name, spec in TABLES.items()}


def _tables(synth) -> dict[str, dict]:
    found = {}
    for logical_id, table in synth.resources("Tables", "AWS::DynamoDB::Table").items():
        (name,) = [n for n in EXPECTED if logical_id.startswith(n)]
        found[name] = table
    return found


def _schema(entries: list[dict]) -> list[tuple[str, str]]:
    return [(e["AttributeName"], e["KeyType"]) for e in entries]


def test_exactly_the_five_tables(synth):
    assert set(_tables(synth)) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_keys_indexes_and_ttl(synth, name):
    props = _tables(synth)[name]["Properties"]
    key_schema, indexes, ttl = EXPECTED[name]
    assert _schema(props["KeySchema"]) == key_schema
    found_indexes = {
        gsi["IndexName"]: _schema(gsi["KeySchema"])
        for gsi in props.get("GlobalSecondaryIndexes", [])
    }
    assert found_indexes == indexes
    for gsi in props.get("GlobalSecondaryIndexes", []):
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
    if ttl:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    for attribute in props["AttributeDefinitions"]:
        assert attribute["AttributeType"] == "S"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_on_demand_pitr_encrypted_and_protected(synth, name):
    table = _tables(synth)[name]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_removal_policy_destroy_drops_protection(synth_overridden):
    for table in _tables(synth_overridden).values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False
