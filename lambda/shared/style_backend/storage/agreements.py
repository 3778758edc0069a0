"""User agreement: who accepted which terms version, when, from where.

The current version is configuration (TERMS_VERSION); raising it makes every user agree again,
since a record only counts for the version it names. Records are never overwritten: the first
acceptance of a version (time, IP, user agent) is the evidence kept.
"""

from __future__ import annotations

from typing import Any

from common import aws
from common.errors import Conflict
from style_backend import config
from style_backend.config import EnvVar
from style_backend.exceptions import NotConsented
from style_backend.process import now_iso


def current_terms_version() -> str:
    return config.get(EnvVar.TERMS_VERSION)


class AgreementStore:
    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.USER_AGREEMENT_TABLE))

    def find(self, user_id: str, terms_version: str) -> dict[str, Any] | None:
        return self.table.get_item(
            Key={"userId": user_id, "termsVersion": terms_version}, ConsistentRead=True
        ).get("Item")

    def status(self, user_id: str) -> dict[str, Any]:
        """Whether the user accepted the *current* terms."""
        version = current_terms_version()
        record = self.find(user_id, version)
        return {
            "agreed": record is not None,
            "termsVersion": version,
            "agreedAt": record["agreedAt"] if record else None,
        }

    def agree(
        self, user_id: str, terms_version: str, source_ip: str, user_agent: str
    ) -> dict[str, Any]:
        """Record consent to `terms_version`, which must be the current one (Conflict otherwise).
        Agreeing twice keeps the first record and returns it."""
        current = current_terms_version()
        if terms_version != current:
            raise Conflict(
                f"Terms version {terms_version!r} is not the current one ({current!r}).",
                "TERMS_VERSION_MISMATCH",
            )
        item = {
            "userId": user_id,
            "termsVersion": current,
            "agreedAt": now_iso(),
            "sourceIp": source_ip,
            "userAgent": user_agent[:512],
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(termsVersion)")
        except Exception as err:
            if not aws.condition_failed(err):
                raise
            item = self.find(user_id, current) or item
        return {"termsVersion": item["termsVersion"], "agreedAt": item["agreedAt"]}

    def require_current(self, user_id: str) -> None:
        """NotConsented unless the user accepted the current terms."""
        if self.find(user_id, current_terms_version()) is None:
            raise NotConsented("Accept the current user agreement (POST /agree) first.")
