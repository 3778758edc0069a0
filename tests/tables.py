"""The five tables as docs/architecture.md defines them: one description for the DynamoDB stack's
test (the template must match it) and for the moto fixtures (so test tables cannot drift from the
deployed ones)."""

from __future__ import annotations

from typing import Any

from style_backend.config import EnvVar

KeySchema = list[tuple[str, str]]  # [(attribute, HASH | RANGE)]

# construct id: (key schema, GSIs {name: key schema}, TTL attribute, env var naming the table)
TABLES: dict[str, tuple[KeySchema, dict[str, KeySchema], str | None, EnvVar]] = {
    "ProcessTable": (
        [("processId", "HASH")],
        {"byUser": [("userId", "HASH"), ("createdAt", "RANGE")]},
        "ttl",
        EnvVar.PROCESS_TABLE,
    ),
    "DisplayTable": (
        [("userId", "HASH"), ("resultId", "RANGE")],
        {},
        None,
        EnvVar.DISPLAY_TABLE,
    ),
    "DisplayHistoryTable": (
        [("userId", "HASH"), ("shownAt", "RANGE")],
        {},
        "ttl",
        EnvVar.DISPLAY_HISTORY_TABLE,
    ),
    "BaseResourceTable": (
        [("resourceId", "HASH")],
        {"byStyle": [("styleKey", "HASH")]},
        None,
        EnvVar.BASE_RESOURCE_TABLE,
    ),
    "UserAgreementTable": (
        [("userId", "HASH"), ("termsVersion", "RANGE")],
        {},
        None,
        EnvVar.USER_AGREEMENT_TABLE,
    ),
}


def table_name(construct_id: str, prefix: str = "") -> str:
    """The moto table of a construct: ProcessTable → {prefix}Process."""
    return prefix + construct_id.removesuffix("Table")


def create_tables(ddb: Any, prefix: str = "") -> dict[str, str]:
    """Create every table in moto as `{prefix}{Name}` (ProcessTable → Process); returns the
    environment the handlers read ({"PROCESS_TABLE": "Process", …})."""
    env = {}
    for construct_id, (keys, indexes, _ttl, var) in TABLES.items():
        table = table_name(construct_id, prefix)
        attributes = {a for a, _ in keys} | {a for ks in indexes.values() for a, _ in ks}
        extra: dict[str, Any] = {}
        if indexes:
            extra["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index,
                    "KeySchema": _schema(ks),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, ks in indexes.items()
            ]
        ddb.create_table(
            TableName=table,
            KeySchema=_schema(keys),
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
            ],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        env[var.value] = table
    return env


def _schema(keys: KeySchema) -> list[dict[str, str]]:
    return [{"AttributeName": a, "KeyType": t} for a, t in keys]
