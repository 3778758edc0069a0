"""Names the tables (stacks/ddb) and the queries (this package) must agree on, written once."""

from __future__ import annotations

# Global secondary indexes.
PROCESS_BY_USER = "byUser"  # Process: userId, createdAt — a user's processes (erasure)
BASE_RESOURCE_BY_STYLE = "byStyle"  # BaseResource: styleKey — one partition per filter combination
# The attribute DynamoDB expires items by (epoch seconds), on tables created with ttl=True.
TTL_ATTRIBUTE = "ttl"
