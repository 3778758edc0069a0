"""The Process and its styles: statuses, how they move, and when a process ends.

    CREATED ──crop──▶ CROPPED ──swap──▶ SWAPPING ──all styles ended──▶ COMPLETED | FAILED
       └──────────────┴───────────────────┴──── bad input / no face ──▶ FAILED
    style: PENDING ──▶ SWAPPING ──▶ COMPLETED | FAILED
    any ──erasure──▶ ERASED (a tombstone: no user, no keys, no styles; no transition leaves it)

Each transition is one conditional write (style_backend.storage.processes), so a duplicated or
retried event finds its condition false and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from style_backend.domain.errors import Failure, Reason


class Status(StrEnum):
    CREATED = "CREATED"
    CROPPED = "CROPPED"
    SWAPPING = "SWAPPING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class StyleStatus(StrEnum):
    PENDING = "PENDING"
    SWAPPING = "SWAPPING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


# The status of an erased process's tombstone (style_backend.edge.erasure). Not a Status: clients
# never see it (the tombstone has no owner, so every read of it answers 404).
ERASED = "ERASED"
TERMINAL = frozenset({Status.COMPLETED, Status.FAILED})
STYLE_TERMINAL = frozenset({StyleStatus.COMPLETED, StyleStatus.FAILED})
# How long an erasure marker and the tombstones stay: longer than any event of an erased process
# can still arrive (Lambda retries an asynchronous event for at most 6 h, an asynchronous
# inference times out within 1 h). After that a step finds no item, which reads as erased too.
ERASURE_RECORD_TTL_SECONDS = 2 * 86400
# The face swap function's timeout (stacks/lambdas sets it from here). A claimed style whose
# request never reached the endpoint may be claimed again after CLAIM_LEASE_SECONDS: three
# timeouts, so a live claimant has surely finished.
SWAP_TIMEOUT_SECONDS = 60
CLAIM_LEASE_SECONDS = 3 * SWAP_TIMEOUT_SECONDS


def now_iso() -> str:
    return iso(time.time())


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def claim_stale_before() -> str:
    """A SWAPPING claim made before this time, its request unconfirmed, may be taken over."""
    return iso(time.time() - CLAIM_LEASE_SECONDS)


def unconfirmed(style: Mapping[str, Any]) -> bool:
    """A style claimed (SWAPPING) whose request the endpoint has not confirmed (no output
    location recorded): its claimant may have crashed mid-request."""
    return style["status"] == StyleStatus.SWAPPING and "outputLocation" not in style


def open_to_request(style: Mapping[str, Any]) -> bool:
    """Whether the swap should (try to) request this style: PENDING, or claimed unconfirmed."""
    return style["status"] == StyleStatus.PENDING or unconfirmed(style)


def closing(styles: Mapping[str, Mapping[str, Any]]) -> tuple[Status, Failure | None] | None:
    """How a process ends once every style has: COMPLETED if one succeeded, FAILED (with the
    reason) if every one failed; None while a style is still open."""
    statuses = [s["status"] for s in styles.values()]
    if not all(s in STYLE_TERMINAL for s in statuses):
        return None
    if StyleStatus.COMPLETED in statuses:
        return Status.COMPLETED, None
    return Status.FAILED, process_failure(styles)


def process_failure(styles: Mapping[str, Mapping[str, Any]]) -> Failure:
    """Why a process whose every style failed failed: the styles' reason when they share one."""
    codes = {(s.get("error") or {}).get("code") for s in styles.values()}
    if codes == {Reason.STYLE_NOT_FOUND.value}:
        return Failure(Reason.STYLE_NOT_FOUND, "None of the chosen styles is available any more.")
    return Failure(Reason.SWAP_FAILED, "No style could be applied.")


def swap_latency_ms(style: Mapping[str, Any]) -> float | None:
    """From the swap's claim of the style (its request to the endpoint) to now."""
    claimed = style.get("claimedAt")
    if not isinstance(claimed, str):
        return None
    try:
        started = datetime.fromisoformat(claimed.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (datetime.now(UTC) - started).total_seconds() * 1000)
