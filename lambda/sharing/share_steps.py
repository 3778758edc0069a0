"""The share exporter's Lambda handler: an SQS batch of export requests (one per share), each
built by faceflow.edge.exporter.

A request that fails with a transient error is raised: SQS makes it visible again and Lambda
retries it, until its last receive (`ApproximateReceiveCount` reaching SHARE_EXPORT_ATTEMPTS,
the queue's maxReceiveCount), which ends the share FAILED instead of leaving it BUILDING.
"""

from __future__ import annotations

from typing import Any

from common.observability import lambda_entry
from faceflow.edge import exporter


@lambda_entry()
def export(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return exporter.export_requests(event)
