"""The right to erasure across products: each product registers the function that erases one
user's data of its own; `erase_user` runs them all. The products never import each other: the
erasure handler imports each product's eraser (registering it) and calls this.

An eraser returns counts of what it deleted ({"albums": 2}); running it again on an erased user
deletes nothing and succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Eraser = Callable[[str], dict[str, int]]
_ERASERS: dict[str, Eraser] = {}


def register(product: str) -> Callable[[Eraser], Eraser]:
    """Decorator: `eraser` erases one user's data of `product` (once per product)."""

    def add(eraser: Eraser) -> Eraser:
        _ERASERS[product] = eraser
        return eraser

    return add


def erase_user(user_id: str) -> dict[str, Any]:
    """Every registered product's erasure of `user_id`, in registration order: their counts."""
    if not _ERASERS:
        raise RuntimeError("no product registered an eraser: import them before erasing")
    deleted: dict[str, int] = {}
    for eraser in _ERASERS.values():
        deleted.update(eraser(user_id))
    return {"userId": user_id, "deleted": deleted}
