"""The Process table: each transition of style_backend.domain.process as one conditional write on
the status it expects, so a duplicated or retried event finds the condition false and changes
nothing (the method returns False / None)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain.errors import Failure
from style_backend.domain.process import (
    ERASED,
    ERASURE_RECORD_TTL_SECONDS,
    Status,
    StyleStatus,
    claim_stale_before,
    closing,
    now_iso,
)
from style_backend.storage import keys
from style_backend.storage.keys import TTL_ATTRIBUTE


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
            ":stale": claim_stale_before(),
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
                ExpressionAttributeNames={"#s": "status", "#e": "error", "#ttl": TTL_ATTRIBUTE},
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
                "processId": keys.erasure_marker_id(user_id),
                "status": ERASED,
                "erasedAt": erased_at,
                TTL_ATTRIBUTE: int(time.time()) + ERASURE_RECORD_TTL_SECONDS,
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
        marker = self.get(keys.erasure_marker_id(item["userId"]))
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
        outcome = closing(item["styles"])
        if outcome is None:
            return False
        _, failure = outcome  # no failure: COMPLETED
        names = {"#s": "status"}
        values: dict[str, Any] = {":now": now_iso(), ":done": Status.COMPLETED.value}
        values |= {":failed": Status.FAILED.value, ":erased": ERASED}
        if failure is None:
            expr = "SET #s = :done, updatedAt = :now"
        else:
            expr = "SET #s = :failed, #e = :err, updatedAt = :now"
            names["#e"] = "error"
            values[":err"] = failure.as_item()
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
