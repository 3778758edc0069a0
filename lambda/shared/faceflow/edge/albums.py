"""The album API's use cases: create, list, photos (with thumbnail URLs), status, delete."""

from __future__ import annotations

from typing import Any

from faceflow.domain.statuses import ACTIVE_JOB, PHOTO_STATUSES
from faceflow.storage import albums, objects, photos
from faceflow.storage.albums import Album
from faceflow.storage.jobs import latest_jobs
from faceflow.storage.table import plain


def create_album(user_id: str, name: str, purge_originals: bool = False) -> Album:
    return albums.create_album(user_id, name, purge_originals)


def list_albums(user_id: str, limit: int, token: str | None) -> tuple[list[Album], str | None]:
    return albums.list_albums(user_id, limit, token)


def delete_album(user_id: str, album_id: str) -> None:
    albums.delete_album(user_id, album_id)


def photo_view(item: dict[str, Any], thumbnail_url: str | None) -> dict[str, Any]:
    return {
        "photoId": item["photoId"],
        "fileName": item["fileName"],
        "status": item["status"],
        "duplicateOf": item.get("duplicateOf"),
        "width": plain(item.get("width")),
        "height": plain(item.get("height")),
        "takenAt": item.get("takenAt"),
        "faces": plain(item.get("faceCount", 0)),
        "thumbnailUrl": thumbnail_url,
        "error": item.get("error"),
    }


def list_photos(
    user_id: str, album_id: str, limit: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    albums.get_album(user_id, album_id)
    items, next_token = photos.photos_page(album_id, limit, token)
    views = [
        photo_view(item, objects.derived_url(item["thumbKey"]) if item.get("thumbKey") else None)
        for item in items
    ]
    return views, next_token


def _job_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "jobId": item["jobId"],
        "status": item["status"],
        "photoCount": plain(item.get("photoCount", 0)),
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
        "error": item.get("error"),
    }


STATUS_JOBS = 20  # the latest jobs an album's status lists


def _scanned_counts(album_id: str) -> dict[str, int]:
    """An album made before its photos were counted: its photos read once to count them."""
    counts = dict.fromkeys(PHOTO_STATUSES, 0)
    for item in photos.album_photos(album_id, ("status",)):
        counts[item["status"]] += 1
    return counts


def album_status(user_id: str, album_id: str) -> dict[str, Any]:
    """Counters, not a scan: the photos by status (faceflow.storage.photos), the people's head
    (faces placed, clusters), the latest jobs."""
    albums.get_album(user_id, album_id)
    counts = photos.counts(album_id) or _scanned_counts(album_id)
    faces, clusters = albums.people_counts(album_id)
    jobs = [_job_view(j) for j in latest_jobs(album_id, STATUS_JOBS)]
    busy = counts["PROCESSING"] > 0 or any(j["status"] in ACTIVE_JOB for j in jobs)
    return {
        "albumId": album_id,
        "status": "PROCESSING" if busy else "IDLE",
        "photos": {
            "total": sum(counts.values()),
            "processed": counts["PROCESSED"],
            "duplicates": counts["DUPLICATE"],
            "failed": counts["FAILED"],
            "pending": counts["UPLOADING"] + counts["PROCESSING"],
        },
        "faces": faces,
        "clusters": clusters,
        "jobs": jobs,
    }
