"""Face swap (S3 ObjectCreated on crops/): request each style still PENDING from the async
endpoint (style_backend.edge.face_swap). Raises to have the event retried: throttling, 5xx, a
claim another delivery holds unconfirmed."""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import face_swap


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    face_swap.request_crops(event)
