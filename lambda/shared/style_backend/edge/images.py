"""GET /apis/images/{userId} and its processes: what a user gets back, the progress of one
process and their styled results, newest first.

`nextToken` is opaque to clients (common.pagination): the Display table's LastEvaluatedKey,
checked on the way back in (shape, and that it belongs to the caller) so that it cannot be used to
read another user's partition.
"""

from __future__ import annotations

from typing import Any

from common import pagination
from common.errors import NotFound
from style_backend.domain.results import owned_by, progress_view, result_view
from style_backend.storage import objects
from style_backend.storage.display import DISPLAY_KEY, DisplayHistory, DisplayStore
from style_backend.storage.processes import ProcessStore


def progress(user_id: str, process_id: str) -> dict[str, Any]:
    """The process as its owner sees it. Someone else's process answers 404, like a missing
    one, so that process ids cannot be probed."""
    item = ProcessStore().get(process_id)
    if not owned_by(item, user_id):
        raise NotFound("No such process.")
    return progress_view(item, process_id, objects.presigned_get)


def results_page(user_id: str, limit: int, next_token: str | None = None) -> dict[str, Any]:
    """One page of results, newest first, and a DisplayHistory row per result shown."""
    start = pagination.decode(next_token, DISPLAY_KEY, lambda key: key["userId"] == user_id)
    rows, last_key = DisplayStore().page(user_id, limit, start)
    items = [result_view(row, objects.presigned_get) for row in rows]
    DisplayHistory().record_shown(user_id, [item["resultId"] for item in items])
    body: dict[str, Any] = {"items": items}
    if last_key is not None:
        body["nextToken"] = pagination.encode(last_key)
    return body
