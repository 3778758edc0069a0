"""The UserAgreement table: one record per user and terms version, never overwritten
(style_backend.domain.agreements)."""

from __future__ import annotations

from typing import Any

from common import aws
from style_backend import config
from style_backend.config import EnvVar


class AgreementStore:
    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.USER_AGREEMENT_TABLE))

    def find(self, user_id: str, terms_version: str) -> dict[str, Any] | None:
        return self.table.get_item(
            Key={"userId": user_id, "termsVersion": terms_version}, ConsistentRead=True
        ).get("Item")

    def add_first(self, item: dict[str, Any]) -> dict[str, Any]:
        """Write the record unless one of its version exists; returns the record kept (the
        first one)."""
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(termsVersion)")
        except Exception as err:
            if not aws.condition_failed(err):
                raise
            return self.find(item["userId"], item["termsVersion"]) or item
        return item
