"""Ids and timestamps: time-sortable ids, ISO 8601 UTC times and their epoch seconds."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """Time-sortable (milliseconds, then 64 random bits): listing by id is upload order."""
    return f"{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def parse_iso(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def iso_seconds(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch(iso: str) -> int:
    return int(parse_iso(iso).timestamp())
