"""A share's rules: who it may go to, which people it may hold, how long it lasts, how many a
user may create per hour, and the status a reader sees. Addresses carry the API document's own
pattern and limit (share_models), so a request it calls valid is never refused here."""

from __future__ import annotations

import re
import time
from typing import Any

from faceflow.domain.errors import InvalidShare
from faceflow.domain.ids import epoch

MAX_RECIPIENTS = 20  # per share; the API document says so too (share_models)
# RFC 5321 limits; ASCII addresses only (no internationalised ones), and nothing but the
# address: no display name, no whitespace, no CR/LF (nothing that could start a header).
MAX_ADDRESS = 254
_CHAR = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LOCAL = rf"[{_CHAR}](?:[.{_CHAR}]{{0,62}}[{_CHAR}])?"  # at most 64, no dot at either end
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # a letter first: not an IP address
EMAIL_PATTERN = rf"^{_LOCAL}@(?:{_LABEL}\.)+{_TOP}$"
EMAIL = re.compile(EMAIL_PATTERN)
RATE_WINDOW_S = 3600
# What the page shows of an album's or a user's name in an email: no markup, no control codes.
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f<>&\"'\\{}]")


def validate_recipients(values: list[Any], limit: int = MAX_RECIPIENTS) -> list[str]:
    """The addresses, each exactly an email address (case-insensitive duplicates dropped)."""
    if not isinstance(values, list) or not values:
        raise InvalidShare("recipients: give at least one email address.")
    if len(values) > limit:
        raise InvalidShare(f"recipients: at most {limit} addresses per share.")
    kept: dict[str, str] = {}
    for i, value in enumerate(values):
        if not isinstance(value, str) or not _is_address(value):
            raise InvalidShare(f"recipients/{i}: not an email address.")
        kept.setdefault(value.lower(), value)
    return list(kept.values())


def _is_address(value: str) -> bool:
    return len(value) <= MAX_ADDRESS and EMAIL.fullmatch(value) is not None


def validate_clusters(values: list[Any]) -> list[str]:
    if not isinstance(values, list) or not values:
        raise InvalidShare("filters/clusterIds: choose at least one person.")
    ids = list(dict.fromkeys(values))
    if not all(isinstance(v, str) and re.fullmatch(r"[0-9A-Za-z_-]{1,64}", v) for v in ids):
        raise InvalidShare("filters/clusterIds: not cluster ids.")
    return ids


def expiry_days(days: int | None, *, default: int, most: int) -> int:
    """The share's lifetime: the default, or the request's shortened to what the exports
    bucket keeps (its objects expire after `most` days); the answer's expiresAt says when it
    ends."""
    if days is None:
        return default
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidShare("expiresInDays: a whole number of days, at least 1.")
    return min(days, most)


def display_text(value: str, limit: int = 100) -> str:
    """A name as an email shows it: markup, braces and control characters replaced."""
    return _UNSAFE_TEXT.sub(" ", value).strip()[:limit] or "someone"


def rate_window(now: int) -> int:
    """The start (epoch seconds) of the rate limit's window holding `now`."""
    return now - now % RATE_WINDOW_S


def status_of(item: dict[str, Any], now: float | None = None) -> str:
    """The status a reader sees: REVOKED and FAILED as they are, EXPIRED past `expiresAt`."""
    if item["status"] in ("REVOKED", "FAILED"):
        return item["status"]
    if epoch(item["expiresAt"]) <= (time.time() if now is None else now):
        return "EXPIRED"
    return item["status"]


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """POST /albums/{albumId}/share's answer, and each row of the album's shares."""
    return {
        "shareId": item["shareId"],
        "status": status_of(item),
        "expiresAt": item["expiresAt"],
        "recipients": list(item["recipients"]),
        "photoCount": int(item["photoCount"]),
        "keepLocation": keeps_location(item),
    }


def keeps_location(item: dict[str, Any]) -> bool:
    """Whether the share ships its originals with their location: only when asked
    (`keepLocation: true`); a share item without the flag has it removed."""
    return item.get("keepLocation") is True
