"""Share items: the share under its album, its owner's lookup, the rate limit's counters
(faceflow.storage.keys), its transitions, and its objects in the exports bucket.

Statuses (faceflow.domain.statuses): BUILDING (until the exporter, faceflow.edge.exporter,
finished) → READY, or FAILED with `error.code`/`message`; REVOKED by the owner at any time (its
objects deleted). Another user's share is "not found", exactly as one that does not exist.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get, get_int
from faceflow.domain.errors import AlbumNotFound, ShareRateLimited
from faceflow.domain.ids import now_iso
from faceflow.domain.shares import RATE_WINDOW_S, rate_window
from faceflow.storage import keys, objects
from faceflow.storage.table import album_items, table

LISTED = ("shareId", "userId", "status", "expiresAt", "recipients", "photoCount", "createdAt")


def put_share(item: dict[str, Any]) -> None:
    """A new share: the lookup first (a share item without one would be listed but not
    readable), then the share."""
    user_id, album_id, share_id = item["userId"], item["albumId"], item["shareId"]
    table().put_item(
        Item={**keys.lookup_key(user_id, share_id), "userId": user_id, "albumId": album_id}
    )
    table().put_item(Item={**keys.share_key(album_id, share_id), **item})


def load(album_id: str, share_id: str) -> dict[str, Any] | None:
    return table().get_item(Key=keys.share_key(album_id, share_id), ConsistentRead=True).get("Item")


def owned(user_id: str, share_id: str) -> dict[str, Any]:
    """The caller's share; anyone else's (or none) is "not found", indistinguishably."""
    pointer = (
        table().get_item(Key=keys.lookup_key(user_id, share_id), ConsistentRead=True).get("Item")
    )
    item = load(pointer["albumId"], share_id) if pointer else None
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound("share")
    return item


def album_shares(album_id: str) -> list[dict[str, Any]]:
    return list(album_items(album_id, keys.SHARE, LISTED))


def count_against_rate_limit(user_id: str) -> None:
    """One more share in this hour's window, refused past the limit (one conditional write, so
    concurrent requests cannot both take the last one)."""
    limit = get_int(AlbumEnv.SHARE_LIMIT_PER_HOUR)
    now = int(time.time())
    window = rate_window(now)
    try:
        table().update_item(
            Key=keys.rate_key(user_id, window),
            UpdateExpression="ADD #n :one SET userId = :user, #ttl = :ttl",
            ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
            ExpressionAttributeNames={"#n": "count", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":one": 1,
                ":limit": limit,
                ":user": user_id,
                ":ttl": window + 2 * RATE_WINDOW_S,
            },
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        retry_after = window + RATE_WINDOW_S - now
        raise ShareRateLimited(
            f"At most {limit} shares per hour; try again in {retry_after // 60 + 1} minutes.",
            retry_after=retry_after,
        ) from None


# ---------------------------------------------------------------- transitions


def fail(album_id: str, share_id: str, code: str, message: str) -> bool:
    """BUILDING → FAILED with the reason; False if the share was no longer building."""
    return transition(
        album_id,
        share_id,
        "SET #s = :failed, #e = :error, updatedAt = :at REMOVE buildToken, buildUntil",
        {":failed": "FAILED", ":error": {"code": code, "message": message}},
        {"#e": "error"},
    )


def transition(
    album_id: str,
    share_id: str,
    update: str,
    values: dict[str, Any],
    names: dict[str, str] | None = None,
    condition: str = "#s = :building",
) -> bool:
    """One conditional update of a share (BUILDING unless `condition` says otherwise); False
    when the condition did not hold."""
    expressions = f"{update} {condition}"
    names = {"#s": "status", **(names or {})}
    values = {":building": "BUILDING", ":at": now_iso(), **values}
    try:
        table().update_item(
            Key=keys.share_key(album_id, share_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            # DynamoDB refuses names and values the expressions do not use.
            ExpressionAttributeNames={k: v for k, v in names.items() if _uses(expressions, k)},
            ExpressionAttributeValues={k: v for k, v in values.items() if _uses(expressions, k)},
        )
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def _uses(expressions: str, placeholder: str) -> bool:
    return re.search(rf"{re.escape(placeholder)}(?![A-Za-z0-9_])", expressions) is not None


def mark_revoked(user_id: str, album_id: str, share_id: str) -> None:
    table().update_item(
        Key=keys.share_key(album_id, share_id),
        UpdateExpression="SET #s = :revoked, updatedAt = :at, revokedAt = :at",
        ConditionExpression="userId = :user",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":revoked": "REVOKED", ":at": now_iso(), ":user": user_id},
    )


def record_notified(album_id: str, share_id: str, address: str) -> None:
    """The recipient was emailed (a retry sends only the missing ones)."""
    table().update_item(
        Key=keys.share_key(album_id, share_id),
        UpdateExpression="ADD notified :one",
        ExpressionAttributeValues={":one": {address}},
    )


# ---------------------------------------------------------------- objects


def read_manifest(item: dict[str, Any]) -> dict[str, Any] | None:
    """The names the share's ZIP holds, or None once its objects are gone (revoked, or the
    album deleted, since the share was read)."""
    key = keys.manifest_key(item["userId"], item["albumId"], item["shareId"])
    try:
        body = objects.s3().get_object(Bucket=get(AlbumEnv.EXPORTS_BUCKET), Key=key)["Body"]
        return json.loads(body.read())
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise
        return None


def delete_objects(item: dict[str, Any]) -> int:
    prefix = keys.share_prefix(item["userId"], item["albumId"], item["shareId"])
    return objects.delete_prefix(get(AlbumEnv.EXPORTS_BUCKET), prefix)
