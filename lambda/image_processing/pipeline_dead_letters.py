"""The pipeline's on-failure queues (SQS event source): an event that failed every retry ends
its styles FAILED with a reason (style_backend.edge.dead_letters); the answer is a partial batch
response."""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import dead_letters


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return dead_letters.end_batch(event)
