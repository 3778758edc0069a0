"""The share API's use cases: a share of chosen people created (its photos chosen by one call to
the people backend, faceflow.edge.people.photos_of_people, and kept as ids, so later uploads or
people edits do not change what was shared), previewed, listed, read with signed URLs, revoked.

Past `expiresAt` a share reads EXPIRED and hands out no URL; CloudFront refuses the URLs it
handed out before, which were signed to expire with it (faceflow.domain.signing). Runs in the
FaceFlow image (the people backend needs numpy and the clustering model); the exporter
(faceflow.edge.exporter, a zip function) never chooses photos and never imports this.
Another user's share is "not found", exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from faceflow.config import AlbumEnv, get_int
from faceflow.domain import shares as rules
from faceflow.domain.errors import NoPhotosToShare
from faceflow.domain.ids import epoch, iso_seconds, new_id, now_iso
from faceflow.domain.signing import UrlSigner
from faceflow.edge.people import photos_of_people
from faceflow.storage import albums, keys, messages, shares
from faceflow.storage.signing_keys import signer


def _expiry_days(days: int | None) -> int:
    return rules.expiry_days(
        days,
        default=get_int(AlbumEnv.SHARE_DEFAULT_EXPIRY_DAYS),
        most=get_int(AlbumEnv.SHARE_MAX_EXPIRY_DAYS),
    )


def create_share(
    user_id: str,
    album_id: str,
    *,
    recipients: list[Any],
    cluster_ids: list[Any],
    expires_in_days: int | None = None,
    shared_by: str = "",
    keep_location: bool = False,
) -> dict[str, Any]:
    """A BUILDING share of the photos of these people. What costs nothing is checked first
    (the request), then the album (404 when not the caller's) and the people (404 for an
    unknown one), then the rate limit (429)."""
    addresses = rules.validate_recipients(recipients)
    clusters = rules.validate_clusters(cluster_ids)
    days = _expiry_days(expires_in_days)
    albums.get_album(user_id, album_id)
    return share_photos(
        user_id,
        album_id,
        photos_of_people(user_id, album_id, clusters),
        recipients=addresses,
        expires_in_days=days,
        shared_by=shared_by,
        cluster_ids=clusters,
        keep_location=keep_location,
    )


def preview(user_id: str, album_id: str, cluster_ids: list[str]) -> int:
    """How many photos a share of these people would hold."""
    clusters = rules.validate_clusters(cluster_ids)
    albums.get_album(user_id, album_id)
    return len(photos_of_people(user_id, album_id, clusters))


def share_photos(
    user_id: str,
    album_id: str,
    photo_ids: list[str],
    *,
    recipients: list[Any],
    expires_in_days: int | None = None,
    shared_by: str = "",
    cluster_ids: list[str] | None = None,
    keep_location: bool = False,
) -> dict[str, Any]:
    """A BUILDING share of these photos of the caller's album, its export requested (the rate
    limit counts it). create_share is this with the photos of chosen people. The exporter
    removes each photo's location unless `keep_location` (faceflow.domain.location)."""
    addresses = rules.validate_recipients(recipients)
    days = _expiry_days(expires_in_days)
    album = albums.get_album(user_id, album_id)
    if not photo_ids:
        raise NoPhotosToShare("No photo of this album shows these people.")
    most = get_int(AlbumEnv.SHARE_MAX_PHOTOS)
    if len(photo_ids) > most:
        raise NoPhotosToShare(f"{len(photo_ids)} photos: a share holds at most {most}.")
    shares.count_against_rate_limit(user_id)
    share_id, created = new_id(), now_iso()
    item = {
        "shareId": share_id,
        "albumId": album_id,
        "userId": user_id,
        "albumName": album.name,
        "sharedBy": shared_by,
        "recipients": addresses,
        "clusterIds": cluster_ids or [],
        "photoIds": list(photo_ids),
        "photoCount": len(photo_ids),
        "keepLocation": bool(keep_location),
        "status": "BUILDING",
        "createdAt": created,
        "updatedAt": created,
        "expiresAt": iso_seconds(datetime.now(UTC) + timedelta(days=days)),
    }
    shares.put_share(item)
    _request_export(item)
    return rules.summary(item)


def _request_export(item: dict[str, Any]) -> None:
    try:
        messages.request_export(item["userId"], item["albumId"], item["shareId"])
    except ClientError:
        # The export will never start: say so on the share rather than leave it BUILDING.
        shares.fail(
            item["albumId"], item["shareId"], "EXPORT_NOT_STARTED", "The export could not start."
        )
        raise


def list_shares(user_id: str, album_id: str) -> list[dict[str, Any]]:
    """The album's shares, newest first (share ids are time-sortable)."""
    albums.get_album(user_id, album_id)
    rows = [
        {**rules.summary(i), "createdAt": i["createdAt"]}
        for i in shares.album_shares(album_id)
        if i["userId"] == user_id
    ]
    return sorted(rows, key=lambda r: r["shareId"], reverse=True)


def view(item: dict[str, Any], signer_: UrlSigner | None) -> dict[str, Any]:
    """GET /shares/{shareId}: URLs only while the share is READY and not expired."""
    status = rules.status_of(item)
    answer: dict[str, Any] = {
        "shareId": item["shareId"],
        "albumId": item["albumId"],
        "status": status,
        "expiresAt": item["expiresAt"],
        "recipients": list(item["recipients"]),
        "photoCount": int(item["photoCount"]),
        "keepLocation": rules.keeps_location(item),
        "items": [],
        "archiveUrl": None,
        "error": item.get("error"),
    }
    if status != "READY" or signer_ is None:
        return answer
    manifest = shares.read_manifest(item)
    if manifest is None:
        return answer  # revoked (or the album deleted) since the share was read: no URL
    user, album, share = item["userId"], item["albumId"], item["shareId"]
    expires = epoch(item["expiresAt"])
    photos = signer_.prefix_urls(
        keys.shared_photos_prefix(user, album, share),
        [entry["key"] for entry in manifest["items"]],
        expires,
    )
    answer["items"] = [
        {"photoId": entry["photoId"], "fileName": entry["fileName"], "url": url}
        for entry, url in zip(manifest["items"], photos, strict=True)
    ]
    answer["archiveUrl"] = signer_.url(keys.archive_key(user, album, share), expires)
    return answer


def get_share(user_id: str, share_id: str) -> dict[str, Any]:
    """The caller's share, signed while it is READY (the signer read only then)."""
    item = shares.owned(user_id, share_id)
    return view(item, signer() if rules.status_of(item) == "READY" else None)


def revoke_share(user_id: str, share_id: str) -> dict[str, Any]:
    """Any status → REVOKED, then every object of the share deleted; repeating it is harmless.
    An exporter still building sees REVOKED when it finishes and deletes what it wrote."""
    item = shares.owned(user_id, share_id)
    if item["status"] != "REVOKED":
        shares.mark_revoked(user_id, item["albumId"], share_id)
        item = {**item, "status": "REVOKED"}
    shares.delete_objects(item)
    return view(item, None)
