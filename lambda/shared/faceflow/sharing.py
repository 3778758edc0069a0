"""Shares: an album's photos of chosen people, sent to recipients until an expiry.

    PK=ALBUM#{albumId} SK=SHARE#{shareId}    the share: status, recipients, photoIds, expiresAt,
                                             the exporter's lease and who was emailed
    PK=USER#{userId}   SK=SHARE#{shareId}    its owner's lookup (GET/DELETE /shares/{shareId})
    PK=USER#{userId}   SK=SHARERATE#{hour}   shares the user created in that hour (rate limit)

Statuses: BUILDING (until the exporter, faceflow.exporter, finished) → READY, or FAILED with
`error.code`/`message`; REVOKED by the owner at any time (its objects deleted). Past `expiresAt`
a share reads EXPIRED and hands out no URL; CloudFront refuses the URLs it handed out before,
which were signed to expire with it (faceflow.signing).

The photos are chosen when the share is created, by one call (faceflow.share_people: the people
backend's `photos_of_people`); the share keeps their ids, so later uploads or people edits do
not change what was shared. This module itself needs no imaging package (the exporter, a zip
function, imports it).
Another user's share is "not found", exactly as one that does not exist.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from faceflow import storage
from faceflow.album_env import AlbumEnv, get, get_int
from faceflow.albums import (
    AlbumError,
    AlbumNotFound,
    album_items,
    get_album,
    new_id,
    now_iso,
    table,
)

STATUSES = ("BUILDING", "READY", "FAILED", "REVOKED", "EXPIRED")
MAX_RECIPIENTS = 20  # per share; the API document says so too (share_models)
# RFC 5321 limits; ASCII addresses only (no internationalised ones), and nothing but the
# address: no display name, no whitespace, no CR/LF (nothing that could start a header). The
# API document carries the same pattern, so a request it calls valid is never refused here.
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


class InvalidShare(AlbumError):
    pass


class NoPhotosToShare(AlbumError):
    code = "NO_PHOTOS"


class ShareRateLimited(AlbumError):
    """`retry_after`: seconds until the window that refused ends."""

    code = "RATE_LIMITED"


def share_key(album_id: str, share_id: str) -> dict[str, str]:
    return {"PK": f"ALBUM#{album_id}", "SK": f"SHARE#{share_id}"}


def lookup_key(user_id: str, share_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"SHARE#{share_id}"}


# ---------------------------------------------------------------- validation


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


def expiry_days(days: int | None) -> int:
    """The share's lifetime: the default, or the request's shortened to what the exports
    bucket keeps (its objects expire after SHARE_MAX_EXPIRY_DAYS); the answer's expiresAt says
    when it ends."""
    if days is None:
        return get_int(AlbumEnv.SHARE_DEFAULT_EXPIRY_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidShare("expiresInDays: a whole number of days, at least 1.")
    return min(days, get_int(AlbumEnv.SHARE_MAX_EXPIRY_DAYS))


def display_text(value: str, limit: int = 100) -> str:
    """A name as an email shows it: markup, braces and control characters replaced."""
    return _UNSAFE_TEXT.sub(" ", value).strip()[:limit] or "someone"


# ---------------------------------------------------------------- create


def share_photos(
    user_id: str,
    album_id: str,
    photo_ids: list[str],
    *,
    recipients: list[Any],
    expires_in_days: int | None = None,
    shared_by: str = "",
    cluster_ids: list[str] | None = None,
) -> dict[str, Any]:
    """A BUILDING share of these photos of the caller's album, its export requested (the rate
    limit counts it). share_people.create_share is this with the photos of chosen people."""
    addresses = validate_recipients(recipients)
    days = expiry_days(expires_in_days)
    album = get_album(user_id, album_id)
    if not photo_ids:
        raise NoPhotosToShare("No photo of this album shows these people.")
    most = get_int(AlbumEnv.SHARE_MAX_PHOTOS)
    if len(photo_ids) > most:
        raise NoPhotosToShare(f"{len(photo_ids)} photos: a share holds at most {most}.")
    _count_against_rate_limit(user_id)
    share_id, created = new_id(), now_iso()
    expires_at = _iso(datetime.now(UTC) + timedelta(days=days))
    item = {
        **share_key(album_id, share_id),
        "shareId": share_id,
        "albumId": album_id,
        "userId": user_id,
        "albumName": album.name,
        "sharedBy": shared_by,
        "recipients": addresses,
        "clusterIds": cluster_ids or [],
        "photoIds": list(photo_ids),
        "photoCount": len(photo_ids),
        "status": "BUILDING",
        "createdAt": created,
        "updatedAt": created,
        "expiresAt": expires_at,
    }
    # The lookup first: a share item without one would be listed but not readable.
    table().put_item(Item={**lookup_key(user_id, share_id), "userId": user_id, "albumId": album_id})
    table().put_item(Item=item)
    _request_export(item)
    return summary(item)


def _request_export(item: dict[str, Any]) -> None:
    body = {"userId": item["userId"], "albumId": item["albumId"], "shareId": item["shareId"]}
    try:
        aws.client("sqs").send_message(
            QueueUrl=get(AlbumEnv.SHARE_QUEUE_URL), MessageBody=json.dumps(body)
        )
    except ClientError:
        # The export will never start: say so on the share rather than leave it BUILDING.
        fail(item["albumId"], item["shareId"], "EXPORT_NOT_STARTED", "The export could not start.")
        raise


def _count_against_rate_limit(user_id: str) -> None:
    """One more share in this hour's window, refused past the limit (one conditional write, so
    concurrent requests cannot both take the last one)."""
    limit = get_int(AlbumEnv.SHARE_LIMIT_PER_HOUR)
    now = int(time.time())
    window = now - now % RATE_WINDOW_S
    try:
        table().update_item(
            Key={"PK": f"USER#{user_id}", "SK": f"SHARERATE#{window}"},
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


# ---------------------------------------------------------------- read


def load(album_id: str, share_id: str) -> dict[str, Any] | None:
    return table().get_item(Key=share_key(album_id, share_id), ConsistentRead=True).get("Item")


def owned(user_id: str, share_id: str) -> dict[str, Any]:
    """The caller's share; anyone else's (or none) is "not found", indistinguishably."""
    pointer = table().get_item(Key=lookup_key(user_id, share_id), ConsistentRead=True).get("Item")
    item = load(pointer["albumId"], share_id) if pointer else None
    if item is None or item.get("userId") != user_id:
        raise AlbumNotFound("share")
    return item


def status_of(item: dict[str, Any], now: float | None = None) -> str:
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
    }


def list_shares(user_id: str, album_id: str) -> list[dict[str, Any]]:
    """The album's shares, newest first (share ids are time-sortable)."""
    get_album(user_id, album_id)
    items = album_items(
        album_id,
        "SHARE#",
        ("shareId", "userId", "status", "expiresAt", "recipients", "photoCount", "createdAt"),
    )
    rows = [{**summary(i), "createdAt": i["createdAt"]} for i in items if i["userId"] == user_id]
    return sorted(rows, key=lambda r: r["shareId"], reverse=True)


def view(item: dict[str, Any], signer: Any | None) -> dict[str, Any]:
    """GET /shares/{shareId}: URLs only while the share is READY and not expired."""
    status = status_of(item)
    answer: dict[str, Any] = {
        "shareId": item["shareId"],
        "albumId": item["albumId"],
        "status": status,
        "expiresAt": item["expiresAt"],
        "recipients": list(item["recipients"]),
        "photoCount": int(item["photoCount"]),
        "items": [],
        "archiveUrl": None,
        "error": item.get("error"),
    }
    if status != "READY" or signer is None:
        return answer
    user, album, share = item["userId"], item["albumId"], item["shareId"]
    expires = epoch(item["expiresAt"])
    try:
        manifest = json.loads(
            storage.s3()
            .get_object(
                Bucket=get(AlbumEnv.EXPORTS_BUCKET), Key=storage.manifest_key(user, album, share)
            )["Body"]
            .read()
        )
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise
        return answer  # revoked (or the album deleted) since the share was read: no URL
    photos = signer.prefix_urls(
        f"{storage.share_prefix(user, album, share)}photos/",
        [entry["key"] for entry in manifest["items"]],
        expires,
    )
    answer["items"] = [
        {"photoId": entry["photoId"], "fileName": entry["fileName"], "url": url}
        for entry, url in zip(manifest["items"], photos, strict=True)
    ]
    answer["archiveUrl"] = signer.url(storage.archive_key(user, album, share), expires)
    return answer


def get_share(user_id: str, share_id: str, signer: Any | None) -> dict[str, Any]:
    return view(owned(user_id, share_id), signer)


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
            Key=share_key(album_id, share_id),
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


def revoke_share(user_id: str, share_id: str) -> dict[str, Any]:
    """Any status → REVOKED, then every object of the share deleted; repeating it is harmless.
    An exporter still building sees REVOKED when it finishes and deletes what it wrote."""
    item = owned(user_id, share_id)
    if item["status"] != "REVOKED":
        table().update_item(
            Key=share_key(item["albumId"], share_id),
            UpdateExpression="SET #s = :revoked, updatedAt = :at, revokedAt = :at",
            ConditionExpression="userId = :user",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":revoked": "REVOKED", ":at": now_iso(), ":user": user_id},
        )
        item = {**item, "status": "REVOKED"}
    delete_objects(item)
    return view(item, None)


def delete_objects(item: dict[str, Any]) -> int:
    prefix = storage.share_prefix(item["userId"], item["albumId"], item["shareId"])
    return storage.delete_prefix(get(AlbumEnv.EXPORTS_BUCKET), prefix)


# ---------------------------------------------------------------- time


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
