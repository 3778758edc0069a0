"""What a user sees of their processes and results: the progress of one process, and one row of
their results. Object keys become URLs through `sign` (the caller's presigner)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from style_backend.domain.process import StyleStatus

# A process id: a full match (a trailing newline is not part of an id).
PROCESS_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50

Sign = Callable[[str], str]


def owned_by(item: Mapping[str, Any] | None, user_id: str) -> bool:
    """Someone else's process reads like a missing one, so that process ids cannot be probed."""
    return item is not None and item.get("userId") == user_id


def progress_view(item: Mapping[str, Any], process_id: str, sign: Sign) -> dict[str, Any]:
    """The process as its owner sees it: statuses, a result URL per completed style, errors."""
    styles: dict[str, Any] = {}
    for resource_id, style in item.get("styles", {}).items():
        view: dict[str, Any] = {"status": style["status"]}
        if style["status"] == StyleStatus.COMPLETED and style.get("resultKey"):
            view["resultUrl"] = sign(style["resultKey"])
        if style.get("error"):
            view["error"] = dict(style["error"])
        styles[resource_id] = view
    body: dict[str, Any] = {"processId": process_id, "status": item["status"], "styles": styles}
    if item.get("error"):
        body["error"] = dict(item["error"])
    return body


def result_view(row: Mapping[str, Any], sign: Sign) -> dict[str, Any]:
    """One Display row as the results listing shows it."""
    return {
        "resultId": row["resultId"],
        "processId": row["processId"],
        "resourceId": row["resourceId"],
        "url": sign(row["resultKey"]),
        "createdAt": row["createdAt"],
    }
