"""The album API used as the web page uses it (local/web/albums.js): create an album, ask for an
upload, PUT the file (or its multipart parts) to the presigned URLs, complete, watch status.
For the end-to-end tests and the benchmark."""

from __future__ import annotations

import hashlib
import io
import time
from typing import Any

import numpy as np
import requests
from PIL import Image

from local.client import User, _expect
from local.photos import PHOTO_CACHE, astronaut, group_shots, labelled_photos

TERMINAL_PHOTO = {"PROCESSED", "DUPLICATE", "FAILED"}


class AlbumUser(User):
    def create_album(self, name: str = "Holidays") -> str:
        r = self.call("POST", "/albums", {"name": name})
        _expect(r, 201)
        return r.json()["albumId"]

    def request_upload(
        self, album_id: str, data: bytes, name: str, content_type: str, sha256: bool = False
    ) -> requests.Response:
        body: dict[str, Any] = {"fileName": name, "contentType": content_type, "size": len(data)}
        if sha256:
            body["sha256"] = hashlib.sha256(data).hexdigest()
        return self.call("POST", f"/albums/{album_id}/uploadUrl", body)

    def put_parts(
        self, data: bytes, part_size: int, parts: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """PUT each listed part's bytes to its URL; returns [{partNumber, etag}]."""
        done = []
        for part in parts:
            n = part["partNumber"]
            chunk = data[(n - 1) * part_size : n * part_size]
            r = requests.put(part["url"], data=chunk, timeout=120)
            _expect(r, 200)
            done.append({"partNumber": n, "etag": r.headers["ETag"]})
        return done

    def complete(self, album_id: str, photo_id: str, parts: list[dict[str, Any]]) -> None:
        r = self.call("POST", f"/albums/{album_id}/photos/{photo_id}/complete", {"parts": parts})
        _expect(r, 200)

    def upload(
        self,
        album_id: str,
        data: bytes,
        name: str = "photo.jpg",
        content_type: str = "image/jpeg",
        sha256: bool = False,
    ) -> dict[str, Any]:
        """The whole upload of one file; returns the uploadUrl answer."""
        r = self.request_upload(album_id, data, name, content_type, sha256)
        _expect(r, 200, 201)
        ticket = r.json()
        upload = ticket["upload"]
        if upload is None:
            return ticket  # an exact duplicate: nothing to send
        if upload["method"] == "PUT":
            put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=120)
            _expect(put, 200)
        else:
            parts = self.put_parts(data, upload["partSize"], upload["parts"])
            self.complete(album_id, ticket["photoId"], parts)
        return ticket

    def status(self, album_id: str) -> dict[str, Any]:
        r = self.call("GET", f"/albums/{album_id}/status")
        _expect(r, 200)
        return r.json()

    def every_page(self, path: str) -> list[dict[str, Any]]:
        """The items of every page of a listing route, following nextToken."""
        items, token = [], None
        while True:
            r = self.call("GET", path + (f"?nextToken={token}" if token else ""))
            _expect(r, 200)
            page = r.json()
            items += page["items"]
            token = page["nextToken"]
            if not token:
                return items

    def photos(self, album_id: str) -> list[dict[str, Any]]:
        return self.every_page(f"/albums/{album_id}/photos")

    def wait_idle(
        self, album_id: str, photos: int, timeout: float = 300, every: float = 0.5
    ) -> dict[str, Any]:
        """Until `photos` photos are all terminal and no job runs (status read `every` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(album_id)
            counts = status["photos"]
            done = counts["processed"] + counts["duplicates"] + counts["failed"]
            if status["status"] == "IDLE" and done >= photos:
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"album not idle after {timeout}s: {status}")
            time.sleep(every)

    def clusters(self, album_id: str) -> list[dict[str, Any]]:
        """Every person of the album, largest first (all pages)."""
        return self.every_page(f"/albums/{album_id}/clusters")


def png_bytes(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


# scikit-image's bundled pictures (no download): distinct photos to make up a batch.
_SKIMAGE = (
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "rocket",
    "retina",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
    "clock",
)


def _distinct_pictures():
    """The pictures whole, then cut in 2×2, 3×3 … tiles: different content each, never a copy
    of another (a tile is no crop of a tile of the same grid)."""
    from skimage import data

    pictures = [("astronaut", astronaut())]
    for name in _SKIMAGE:
        rgb = getattr(data, name)()
        pictures.append((name, np.stack([rgb] * 3, axis=-1) if rgb.ndim == 2 else rgb[..., :3]))
    for grid in range(1, 6):
        for name, rgb in pictures:
            h, w = rgb.shape[0] // grid, rgb.shape[1] // grid
            if min(h, w) < 96:
                continue
            for i in range(grid):
                for j in range(grid):
                    yield f"{name}-{grid}-{i}{j}.png", rgb[i * h : (i + 1) * h, j * w : (j + 1) * w]


def real_photos(count: int) -> list[tuple[str, bytes]]:
    """(file name, bytes), all different pictures: the real photos fetched at set-up (registry
    fixtures), then scikit-image's pictures and tiles of them to make up the count."""
    paths = [p for _, p in labelled_photos()] + group_shots()
    t1 = PHOTO_CACHE / "insightface_t1.jpg"
    if t1.exists():
        paths.append(t1)
    photos = [(p.name, p.read_bytes()) for p in paths][:count]
    for name, rgb in _distinct_pictures():
        if len(photos) >= count:
            break
        photos.append((name, png_bytes(np.ascontiguousarray(rgb))))
    return photos


_TYPES = {"png": "image/png", "webp": "image/webp", "heic": "image/heic", "avif": "image/avif"}


def content_type(name: str) -> str:
    return _TYPES.get(name.rsplit(".", 1)[-1].lower(), "image/jpeg")
