"""Face swap completion (SNS success and error topics of the async endpoint): store the result,
end the style, add the Display row (style_backend.edge.completion)."""

from __future__ import annotations

from typing import Any

from common import observability
from style_backend.edge import completion


@observability.lambda_entry()
def handler(event: dict[str, Any], context: Any = None) -> None:
    completion.complete_all(event)
