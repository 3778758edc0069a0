"""The live progress publisher: a batch of DynamoDB stream records (the album table's jobs and
shares, the process table's processes) → one message per change, pushed to the owner's
connections (common.live.push). The products turn their own records into messages; this handler,
like the erasure handler, is where both meet."""

from __future__ import annotations

from typing import Any

import faceflow.edge.live as albums
import style_backend.edge.live as processes
from common import config, live
from common.observability import lambda_entry, logger
from faceflow.config import AlbumEnv
from style_backend.config import EnvVar


def _table_of(record: dict[str, Any]) -> str:
    """arn:aws:dynamodb:{region}:{account}:table/{name}/stream/{label} → name."""
    return record.get("eventSourceARN", "").partition(":table/")[2].split("/", 1)[0]


@lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> dict[str, int]:
    records = event.get("Records", [])
    album_table = config.get(AlbumEnv.TABLE)
    process_table = config.get(EnvVar.PROCESS_TABLE)
    messages = [
        *albums.messages([r for r in records if _table_of(r) == album_table]),
        *processes.messages([r for r in records if _table_of(r) == process_table]),
    ]
    sent = sum(live.push(user_id, message) for user_id, message in messages)
    logger.info("progress pushed", extra={"records": len(records), "sent": sent})
    return {"messages": len(messages), "sent": sent}
