"""Every listing's `nextToken`, made and read here (the styled results, albums, photos, people).

A token is opaque to clients: unpadded base64url of a JSON object of strings, the position where
the next page starts (a DynamoDB LastEvaluatedKey, or an offset into an order kept in memory).
Reading one back checks its shape and that it belongs to the listing asking (the caller's
partition): anything else is InvalidToken, which the API edge answers 400 INVALID_TOKEN on every
route. DynamoDB is never handed a key the client made up.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping

from common.errors import InvalidToken

NOT_GIVEN = "nextToken is not one this listing gave."


def encode(position: Mapping[str, str] | None) -> str | None:
    """The nextToken of a page that ended at `position`; None after the last page."""
    if not position:
        return None
    raw = json.dumps(dict(position), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(
    token: str | None,
    fields: Collection[str],
    belongs: Callable[[dict[str, str]], bool],
) -> dict[str, str] | None:
    """The position `token` stands for (None without a token): a JSON object of exactly
    `fields`, every value a string, that `belongs` to this listing."""
    if token is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    # RecursionError: a token of nested brackets is as malformed as any other.
    except (binascii.Error, ValueError, RecursionError):
        raise InvalidToken(NOT_GIVEN) from None
    if (
        not isinstance(position, dict)
        or set(position) != set(fields)
        or not all(isinstance(value, str) for value in position.values())
        or not belongs(position)
    ):
        raise InvalidToken(NOT_GIVEN)
    return position


def encode_offset(offset: int | None) -> str | None:
    """The nextToken of a page of an in-memory order that continues at `offset`."""
    return None if offset is None else encode({"offset": str(offset)})


def decode_offset(token: str | None) -> int:
    """Where the page of `token` starts in an in-memory order (0 without a token)."""
    position = decode(token, ("offset",), lambda p: _small_number(p["offset"]))
    return int(position["offset"]) if position else 0


def _small_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 9
