"""The Process item and its state transitions.

Every transition is one conditional write on the status it expects, so a duplicated or retried
event finds the condition false and changes nothing (the method returns False / None).

    CREATED ──crop──▶ CROPPED ──swap──▶ SWAPPING ──all styles ended──▶ COMPLETED | FAILED
       └──────────────┴───────────────────┴──── bad input / no face ──▶ FAILED
    style: PENDING ──▶ SWAPPING ──▶ COMPLETED | FAILED
    any ──erasure──▶ ERASED (a tombstone: no user, no keys, no styles; no transition leaves it)
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from common import aws, observability
from style_backend import config, events, keys
from style_backend.config import EnvVar
from style_backend.errors import Failure, Reason
from style_backend.tables import TTL_ATTRIBUTE

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


# The status of an erased process's tombstone (style_backend.erasure). Not a Status: clients
# never see it (the tombstone has no owner, so every read of it answers 404).
ERASED = "ERASED"
TERMINAL = frozenset({Status.COMPLETED, Status.FAILED})
STYLE_TERMINAL = frozenset({StyleStatus.COMPLETED, StyleStatus.FAILED})
# How long an erasure marker and the tombstones stay: longer than any event of an erased process
# can still arrive (Lambda retries an asynchronous event for at most 6 h, an asynchronous
# inference times out within 1 h). After that a step finds no item, which reads as erased too.
ERASURE_RECORD_TTL_SECONDS = 2 * 86400
_ERASURE_MARKER_PREFIX = "erasure#"  # never a process id: object keys cannot hold '#'
# The face swap function's timeout (stacks/lambdas sets it from here). A claimed style whose
# request never reached the endpoint may be claimed again after CLAIM_LEASE_SECONDS: three
# timeouts, so a live claimant has surely finished.
SWAP_TIMEOUT_SECONDS = 60
CLAIM_LEASE_SECONDS = 3 * SWAP_TIMEOUT_SECONDS


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
            TTL_ATTRIBUTE: int(time.time()) + ttl_days * 86400,
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

    def mark_failed(
        self, process_id: str, failure: Failure, *, only_from: Status | None = None
    ) -> bool:
        """FAILED with a reason, from any non-terminal status (or from `only_from` alone)."""
        values = {
            ":failed": Status.FAILED.value,
            ":done": Status.COMPLETED.value,
            ":erased": ERASED,
            ":err": failure.as_item(),
            ":now": now_iso(),
        }
        condition = "attribute_exists(processId) AND NOT #s IN (:done, :failed, :erased)"
        if only_from is not None:
            condition += " AND #s = :from"
            values[":from"] = only_from.value
        return (
            self._update(
                process_id,
                UpdateExpression="SET #s = :failed, #e = :err, updatedAt = :now",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues=values,
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
        unrequested_only: bool = False,
    ) -> dict[str, Any] | None:
        """End one style (COMPLETED with its result, or FAILED), then close the process once
        every style has ended. Returns the item after the style's write, or None when the style
        had already ended (a duplicate message). `unrequested_only`: only if its request never
        reached the endpoint (no output location recorded), so an answer on its way wins."""
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
        condition = "styles.#r.#s IN (:pending, :swapping)"
        if unrequested_only:
            condition += " AND attribute_not_exists(styles.#r.outputLocation)"
        item = self._update(
            process_id,
            UpdateExpression=expr,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if item is not None:
            self.close_if_done(item)
        return item

    def tombstone(
        self, process_id: str, ttl: int, *, user_id: str | None = None, erased_at: str = ""
    ) -> bool:
        """Empty the item but keep its key as an ERASED tombstone: no owner (it leaves the
        byUser index), no object keys, no styles, so every later conditional transition fails.
        With `user_id`/`erased_at`: only a process of that user created by then (a step found
        its user's erasure marker). False when it was a tombstone already or does not exist."""
        condition = "attribute_exists(processId) AND #s <> :erased"
        values: dict[str, Any] = {":erased": ERASED, ":now": now_iso(), ":ttl": ttl}
        if user_id is not None:
            condition += " AND userId = :user AND createdAt <= :erasedAt"
            values |= {":user": user_id, ":erasedAt": erased_at}
        return (
            self._update(
                process_id,
                UpdateExpression=(
                    "SET #s = :erased, erasedAt = :now, updatedAt = :now, #ttl = :ttl "
                    "REMOVE userId, sourceKey, cropKey, resourceIds, styles, #e, createdAt"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", "#e": "error", "#ttl": "ttl"},
                ExpressionAttributeValues=values,
            )
            is not None
        )

    def mark_user_erased(self, user_id: str) -> str:
        """Erasure's first write: the user's marker, so that a step finishing later treats every
        process of theirs created until now as erased, even one erasure did not find (the
        byUser index lags its table). Keyed by a hash: the marker names nobody."""
        erased_at = now_iso()
        self.table.put_item(
            Item={
                "processId": erasure_marker_id(user_id),
                "status": ERASED,
                "erasedAt": erased_at,
                "ttl": int(time.time()) + ERASURE_RECORD_TTL_SECONDS,
            }
        )
        return erased_at

    def lost_to_erasure(self, process_id: str, item: dict[str, Any] | None = None) -> bool:
        """Whether the process was erased: no item (erased, or expired), a tombstone, or created
        before its user's erasure marker (then tombstoned here, so later steps see it at once).
        `item`: the process as just read, to save a read. Steps call this before their work and
        again after their last write, and delete what they wrote when it answers True."""
        item = item if item is not None else self.get(process_id)
        if item is None or item.get("status") == ERASED or "userId" not in item:
            return True
        marker = self.get(erasure_marker_id(item["userId"]))
        if marker is None or item["createdAt"] > marker["erasedAt"]:
            return False
        self.tombstone(
            process_id,
            int(time.time()) + ERASURE_RECORD_TTL_SECONDS,
            user_id=item["userId"],
            erased_at=marker["erasedAt"],
        )
        return True

    def close_if_done(self, item: dict[str, Any]) -> bool:
        """COMPLETED if every style ended and one succeeded; FAILED if every style failed."""
        statuses = [s["status"] for s in item["styles"].values()]
        if not all(s in STYLE_TERMINAL for s in statuses):
            return False
        names = {"#s": "status"}
        values: dict[str, Any] = {":now": now_iso(), ":done": Status.COMPLETED.value}
        values |= {":failed": Status.FAILED.value, ":erased": ERASED}
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
                ConditionExpression="NOT #s IN (:done, :failed, :erased)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            is not None
        )


def erasure_marker_id(user_id: str) -> str:
    return _ERASURE_MARKER_PREFIX + hashlib.sha256(user_id.encode()).hexdigest()


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

    def remove(self, process: dict[str, Any], resource_id: str) -> None:
        """Remove the row `add` wrote (its process was erased meanwhile); no-op when absent."""
        result = result_id(process["createdAt"], process["processId"], resource_id)
        self.table.delete_item(Key={"userId": process["userId"], "resultId": result})


def process_of_object(
    store: ProcessStore,
    obj: events.S3Object,
    parse_key: Callable[[str], keys.ProcessRef],
    log: Any,
) -> tuple[keys.ProcessRef, dict[str, Any], Any] | None:
    """The Process an S3 object event belongs to, with a logger bound to its ids; or None (logged)
    when the event must be dropped: a key outside the layout, another bucket, no such process or
    another user's. Dropped events are never retried: nothing would change on a retry. The object
    of an erased (or vanished) process is deleted: erasure must not depend on who came first."""
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
    if process is not None and process.get("userId", ref.user_id) != ref.user_id:
        plog.warning("dropped: another user's process", extra={"key": obj.key})
        return None
    if store.lost_to_erasure(ref.process_id, process):
        # Erasure may have listed this prefix before the object landed: it goes now.
        aws.client("s3").delete_object(Bucket=obj.bucket, Key=obj.key)
        plog.info("discarded: the process was erased", extra={"key": obj.key})
        return None
    return ref, process, plog
