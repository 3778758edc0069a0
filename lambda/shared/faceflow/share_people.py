"""A share of chosen people: the photos are the album's (not duplicates) in which any of them
appears, chosen by one call to the people backend, `people_store.photos_of_people`.

Apart from faceflow.sharing because the people backend needs the imaging packages (numpy, the
clustering model), which only the FaceFlow image has: the share API runs there, the exporter
(which never chooses photos) stays a zip function.
"""

from __future__ import annotations

from typing import Any

from faceflow import people_store, sharing
from faceflow.albums import get_album


def create_share(
    user_id: str,
    album_id: str,
    *,
    recipients: list[Any],
    cluster_ids: list[Any],
    expires_in_days: int | None = None,
    shared_by: str = "",
) -> dict[str, Any]:
    """A BUILDING share of the photos of these people. What costs nothing is checked first
    (the request), then the album (404 when not the caller's) and the people (404 for an
    unknown one), then the rate limit (429)."""
    addresses = sharing.validate_recipients(recipients)
    clusters = sharing.validate_clusters(cluster_ids)
    days = sharing.expiry_days(expires_in_days)
    get_album(user_id, album_id)
    return sharing.share_photos(
        user_id,
        album_id,
        people_store.photos_of_people(user_id, album_id, clusters),
        recipients=addresses,
        expires_in_days=days,
        shared_by=shared_by,
        cluster_ids=clusters,
    )


def preview(user_id: str, album_id: str, cluster_ids: list[str]) -> int:
    """How many photos a share of these people would hold."""
    clusters = sharing.validate_clusters(cluster_ids)
    get_album(user_id, album_id)
    return len(people_store.photos_of_people(user_id, album_id, clusters))
