"""The status values of an album's photos, its pipeline jobs and its shares."""

from __future__ import annotations

PHOTO_STATUSES = ("UPLOADING", "PROCESSING", "PROCESSED", "DUPLICATE", "FAILED")
TERMINAL_PHOTO = frozenset({"PROCESSED", "DUPLICATE", "FAILED"})
# Statuses of photos whose faces count as the album's people (duplicates never get faces).
PEOPLE_PHOTO_STATUSES = frozenset({"PROCESSING", "PROCESSED"})

# CANCELLED: its album was deleted while it ran (the pipeline's no-op steps); never shown.
JOB_STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
ACTIVE_JOB = frozenset({"QUEUED", "RUNNING"})

# BUILDING (until the exporter finished) → READY, or FAILED; REVOKED by the owner at any time;
# EXPIRED is read, never written (shares.status_of).
SHARE_STATUSES = ("BUILDING", "READY", "FAILED", "REVOKED", "EXPIRED")
