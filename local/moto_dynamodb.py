"""moto's DynamoDB TransactWriteItems at the cost of its items, not of its table.

moto 5.2 backs a transaction up by deep-copying every table it names (to restore them if any
part fails): a transaction of three items on a table of 100,000 costs seconds, so the people
store (faceflow.storage.people: a transaction per change) slowed as albums grew — an emulation
cost DynamoDB does not have. `cheap_transactions()` keeps moto's own transaction (its checks,
errors and writes) and backs up only the items it names: the table copy becomes the table
itself, and on failure those items are put back as they were. Idempotent; moto's answers are
unchanged. The local runtime (local.motoserver) and the benchmarks on moto in process apply it.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any


def _key(table: Any, op: dict[str, Any]) -> dict[str, Any]:
    if "Key" in op:
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def cheap_transactions() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "cheap", False):
        return
    transact = DynamoDBBackend.transact_write_items

    def item_backed_transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            try:
                key = _key(table, op)
                saved.append(
                    (op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key)))
                )
            except Exception:  # a malformed part: moto's own call answers it
                continue
        try:
            return transact(self, transact_items)
        except Exception:
            for name, key, before in reversed(saved):
                if before is None:
                    with contextlib.suppress(Exception):  # never written: nothing to take back
                        self.delete_item(name, key)
                else:
                    self.tables[name].put_item(before.to_json()["Attributes"])
            raise

    item_backed_transact.cheap = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = item_backed_transact
    # moto's only deep copy of a table is that backup: it is the table itself now.
    Table.__deepcopy__ = lambda self, memo: self  # type: ignore[method-assign]
