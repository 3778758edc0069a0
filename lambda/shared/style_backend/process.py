"""The Process item and its state transitions.

Every transition is one conditional write on the status it expects, so a duplicated or retried
event finds the condition false and changes nothing (the method returns False / None).

    CREATED ──crop──▶ CROPPED ──swap──▶ SWAPPING ──all styles ended──▶ COMPLETED | FAILED
       └──────────────┴───────────────────┴──── bad input / no face ──▶ FAILED
    style: PENDING ──▶ SWAPPING ──▶ COMPLETED | FAILED
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from style_backend import aws, config, events, keys, observability
from style_backend.config import EnvVar
from style_backend.errors import Failure, Reason

__all__ = ["Failure", "ProcessStore", "Reason", "Status", "StyleStatus"]


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


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED})
STYLE_TERMINAL = frozenset({StyleStatus.COMPLETED, StyleStatus.FAILED})
# A claimed style whose request never reached the endpoint may be claimed again after this long:
# three times the face swap function's 60 s timeout, so a live claimant has surely finished.
CLAIM_LEASE_SECONDS = 180


def now_iso() -> str:
    return _iso(time.time())


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class ProcessStore:
    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.PROCESS_TABLE))

    def create(
        self,
        user_id: str,
        resource_ids: list[str],
        source_key_for: Any,
        ttl_days: int,
        process_id: str | None = None,
    ) -> dict[str, Any]:
        """A new CREATED process; `source_key_for(process_id)` gives the upload key."""
        process_id = process_id or str(uuid.uuid4())
        now = now_iso()
        item = {
            "processId": process_id,
            "userId": user_id,
            "status": Status.CREATED.value,
            "sourceKey": source_key_for(process_id),
            "resourceIds": list(resource_ids),
            "styles": {r: {"status": StyleStatus.PENDING.value} for r in resource_ids},
            "createdAt": now,
            "updatedAt": now,
            "ttl": int(time.time()) + ttl_days * 86400,
        }
        self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(processId)")
        return item

    def get(self, process_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key={"processId": process_id}, ConsistentRead=True).get("Item")

    def _update(self, process_id: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return self.table.update_item(
                Key={"processId": process_id}, ReturnValues="ALL_NEW", **kwargs
            )["Attributes"]
        except Exception as err:
            if aws.condition_failed(err):
                return None
            raise

    def mark_cropped(self, process_id: str, crop_key: str) -> bool:
        return (
            self._update(
                process_id,
                UpdateExpression="SET #s = :cropped, cropKey = :k, updatedAt = :now",
                ConditionExpression="#s = :created",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":cropped": Status.CROPPED.value,
                    ":created": Status.CREATED.value,
                    ":k": crop_key,
                    ":now": now_iso(),
                },
            )
            is not None
        )

    def mark_failed(self, process_id: str, failure: Failure) -> bool:
        """FAILED with a reason, from any non-terminal status."""
        return (
            self._update(
                process_id,
                UpdateExpression="SET #s = :failed, #e = :err, updatedAt = :now",
                ConditionExpression="attribute_exists(processId) AND NOT #s IN (:done, :failed)",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={
                    ":failed": Status.FAILED.value,
                    ":done": Status.COMPLETED.value,
                    ":err": failure.as_item(),
                    ":now": now_iso(),
                },
            )
            is not None
        )

    def mark_style_swapping(self, process_id: str, resource_id: str, inference_id: str) -> bool:
        """Claim the style before its request goes to the endpoint: PENDING → SWAPPING, and the
        process SWAPPING. Only one delivery of a duplicated event wins, so the GPU runs once.
        A claim whose request never got through (no output location recorded) can be taken
        again once its lease has run out: the claimant crashed mid-request."""
        names = {"#s": "status", "#r": resource_id}
        now = now_iso()
        values: dict[str, Any] = {
            ":swapping": Status.SWAPPING.value,
            ":cropped": Status.CROPPED.value,
            ":pending": StyleStatus.PENDING.value,
            ":id": inference_id,
            ":now": now,
            ":stale": _iso(time.time() - CLAIM_LEASE_SECONDS),
        }
        return (
            self._update(
                process_id,
                UpdateExpression=(
                    "SET #s = :swapping, styles.#r.#s = :swapping, styles.#r.inferenceId = :id, "
                    "styles.#r.claimedAt = :now, updatedAt = :now"
                ),
                ConditionExpression=(
                    "#s IN (:cropped, :swapping) AND (styles.#r.#s = :pending OR "
                    "(styles.#r.#s = :swapping AND attribute_not_exists(styles.#r.outputLocation)"
                    " AND styles.#r.claimedAt < :stale))"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def release_style(self, process_id: str, resource_id: str, inference_id: str) -> bool:
        """Give a claim back (SWAPPING → PENDING) when its request did not reach the endpoint,
        so the retried event requests the style again."""
        return (
            self._update(
                process_id,
                UpdateExpression="SET styles.#r.#s = :pending REMOVE styles.#r.claimedAt",
                ConditionExpression=(
                    "styles.#r.#s = :swapping AND styles.#r.inferenceId = :id "
                    "AND attribute_not_exists(styles.#r.outputLocation)"
                ),
                ExpressionAttributeNames={"#s": "status", "#r": resource_id},
                ExpressionAttributeValues={
                    ":pending": StyleStatus.PENDING.value,
                    ":swapping": StyleStatus.SWAPPING.value,
                    ":id": inference_id,
                },
            )
            is not None
        )

    def record_output_locations(
        self, process_id: str, resource_id: str, output: str | None, failure: str | None
    ) -> bool:
        """Where InvokeEndpointAsync said the output will land: erasure deletes it there."""
        sets, values = [], {}
        for field, value in (("outputLocation", output), ("failureLocation", failure)):
            if value:
                sets.append(f"styles.#r.{field} = :{field}")
                values[f":{field}"] = value
        if not sets:
            return False
        return (
            self._update(
                process_id,
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(styles.#r.inferenceId)",
                ExpressionAttributeNames={"#r": resource_id},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def finish_style(
        self,
        process_id: str,
        resource_id: str,
        result_key: str | None = None,
        failure: Failure | None = None,
    ) -> dict[str, Any] | None:
        """End one style (COMPLETED with its result, or FAILED), then close the process once
        every style has ended. Returns the item after the style's write, or None when the style
        had already ended (a duplicate message)."""
        names = {"#s": "status", "#r": resource_id}
        values: dict[str, Any] = {":now": now_iso()}
        if failure is None:
            expr = "SET styles.#r.#s = :st, styles.#r.resultKey = :k, updatedAt = :now"
            values |= {":st": StyleStatus.COMPLETED.value, ":k": result_key}
        else:
            expr = "SET styles.#r.#s = :st, styles.#r.#e = :err, updatedAt = :now"
            names["#e"] = "error"
            values |= {":st": StyleStatus.FAILED.value, ":err": failure.as_item()}
        values |= {":pending": StyleStatus.PENDING.value, ":swapping": StyleStatus.SWAPPING.value}
        item = self._update(
            process_id,
            UpdateExpression=expr,
            ConditionExpression="styles.#r.#s IN (:pending, :swapping)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if item is not None:
            self.close_if_done(item)
        return item

    def close_if_done(self, item: dict[str, Any]) -> bool:
        """COMPLETED if every style ended and one succeeded; FAILED if every style failed."""
        statuses = [s["status"] for s in item["styles"].values()]
        if not all(s in STYLE_TERMINAL for s in statuses):
            return False
        names = {"#s": "status"}
        values: dict[str, Any] = {":now": now_iso(), ":done": Status.COMPLETED.value}
        values[":failed"] = Status.FAILED.value
        if StyleStatus.COMPLETED in statuses:
            expr = "SET #s = :done, updatedAt = :now"
        else:
            expr = "SET #s = :failed, #e = :err, updatedAt = :now"
            names["#e"] = "error"
            values[":err"] = _process_failure(item["styles"]).as_item()
        return (
            self._update(
                item["processId"],
                UpdateExpression=expr,
                ConditionExpression="NOT #s IN (:done, :failed)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            is not None
        )


def _process_failure(styles: dict[str, Any]) -> Failure:
    """Why a process whose every style failed failed: the styles' reason when they share one."""
    codes = {(s.get("error") or {}).get("code") for s in styles.values()}
    if codes == {Reason.STYLE_NOT_FOUND.value}:
        return Failure(Reason.STYLE_NOT_FOUND, "None of the chosen styles is available any more.")
    return Failure(Reason.SWAP_FAILED, "No style could be applied.")


def result_id(created_at: str, process_id: str, resource_id: str) -> str:
    """Display sort key: time-sortable by the process's creation, unique per style, and the
    same on every retry of the completion (never the time of the retry)."""
    return f"{created_at}#{process_id}#{resource_id}"


class DisplayStore:
    """The Display table: one row per styled picture a user can see."""

    def __init__(self, table_name: str | None = None):
        self.table = aws.table(table_name or config.get(EnvVar.DISPLAY_TABLE))

    def add(self, process: dict[str, Any], resource_id: str, result_key: str) -> bool:
        """Add the row once; False when it was already there (a retried completion)."""
        item = {
            "userId": process["userId"],
            "resultId": result_id(process["createdAt"], process["processId"], resource_id),
            "processId": process["processId"],
            "resourceId": resource_id,
            "resultKey": result_key,
            "createdAt": process["createdAt"],
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(resultId)")
        except Exception as err:
            if aws.condition_failed(err):
                return False
            raise
        return True


def process_of_object(
    store: ProcessStore,
    obj: events.S3Object,
    parse_key: Callable[[str], keys.ProcessRef],
    log: Any,
) -> tuple[keys.ProcessRef, dict[str, Any], Any] | None:
    """The Process an S3 object event belongs to, with a logger bound to its ids; or None (logged)
    when the event must be dropped: a key outside the layout, another bucket, no such process or
    another user's. Dropped events are never retried: nothing would change on a retry."""
    try:
        ref = parse_key(obj.key)
    except keys.InvalidKey:
        log.warning("dropped: key outside the layout", extra={"key": obj.key})
        return None
    plog = observability.bind(log, processId=ref.process_id, userId=ref.user_id)
    if obj.bucket != config.get(EnvVar.BUCKET_NAME):
        plog.warning("dropped: foreign bucket", extra={"bucket": obj.bucket})
        return None
    process = store.get(ref.process_id)
    if process is None or process["userId"] != ref.user_id:
        plog.warning("dropped: no process for this object", extra={"key": obj.key})
        return None
    return ref, process, plog
