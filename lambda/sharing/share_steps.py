"""The share exporter's Lambda handler: an SQS batch of export requests (one per share).

A request that fails with a transient error is raised: SQS makes it visible again and Lambda
retries it, until its last receive (`ApproximateReceiveCount` reaching SHARE_EXPORT_ATTEMPTS,
the queue's maxReceiveCount), which ends the share FAILED instead of leaving it BUILDING.
"""

from __future__ import annotations

import json
from typing import Any

from common.observability import logger
from faceflow import exporter
from faceflow.album_env import AlbumEnv, get_int


def export(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    attempts = get_int(AlbumEnv.SHARE_EXPORT_ATTEMPTS)
    results = {}
    for record in event.get("Records", []):
        request = json.loads(record["body"])
        received = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        status = exporter.export(
            request["userId"],
            request["albumId"],
            request["shareId"],
            final_attempt=received >= attempts,
        )
        logger.info("share exported", extra={"shareId": request["shareId"], "status": status})
        results[request["shareId"]] = status
    return {"shares": results}
