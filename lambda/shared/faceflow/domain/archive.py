"""A share's ZIP: file names any unzip tool extracts in place, each unique ignoring case, and the
archive written from the photos' bytes, stored (JPEG, PNG, WebP, HEIC and AVIF are compressed
already), each checked against its recorded SHA-256 (ProcessPhoto's, or the location-free copy's).

`zipfile` on an unseekable stream (the exporter's S3 multipart writer, faceflow.storage.exports)
writes each entry's sizes and CRC after its data (a data descriptor) and switches to ZIP64
records where sizes need them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Any
from urllib.parse import quote

from faceflow.domain.errors import ExportFailed
from faceflow.domain.uploads import EXTENSIONS

READ_CHUNK = 1024 * 1024
MAX_NAME = 100  # characters of a file name in the ZIP, extension included
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- file names


def safe_name(file_name: str, extension: str) -> str:
    """A file name any unzip tool extracts in place: the last path segment only, no control or
    reserved characters, no leading dots, not a Windows device name, at most MAX_NAME
    characters, ending in the photo's real extension."""
    name = unicodedata.normalize("NFC", file_name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _UNSAFE.sub("_", name).strip(" .")
    stem = PurePosixPath(name).stem if "." in name else name
    stem = stem.strip(" .") or "photo"
    if _RESERVED.match(stem):
        stem = f"_{stem}"
    return f"{stem[: MAX_NAME - len(extension) - 1].rstrip(' .') or 'photo'}.{extension}"


def unique_names(names: list[str]) -> list[str]:
    """`a.jpg`, `a (2).jpg`, `a (3).jpg`…: unique ignoring case (case-insensitive file
    systems would overwrite one with the other)."""
    taken: set[str] = set()
    result = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = f"{stem[: MAX_NAME - len(ext) - len(suffix) - 1]}{suffix}{dot}{ext}"
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def attachment(name: str) -> str:
    """The Content-Disposition that downloads an object as `name`."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def archive_name(item: dict[str, Any]) -> str:
    """The ZIP's own name (without .zip): the album's, made safe."""
    return safe_name(item.get("albumName") or "photos", "zip").removesuffix(".zip")


# ---------------------------------------------------------------- the photos


@dataclass(frozen=True)
class Photo:
    photo_id: str
    file_name: str
    raw_key: str
    content_type: str
    taken: tuple[int, int, int, int, int, int]
    sha256: str | None = None  # of the original, recorded by ProcessPhoto

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type) or self.raw_key.rsplit(".", 1)[-1]

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Photo:
        return cls(
            item["photoId"],
            item["fileName"],
            item["rawKey"],
            item["contentType"],
            zip_time(item.get("takenAt") or item["createdAt"]),
            item.get("sha256"),
        )


def zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return _ZIP_EPOCH
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    return stamp if 1980 <= at.year <= 2107 else _ZIP_EPOCH  # what a ZIP date can hold


# ---------------------------------------------------------------- the archive


@dataclass(frozen=True)
class Entry:
    """One photo's bytes as the archive reads them: its size and its chunks."""

    size: int
    chunks: Iterable[bytes]


def write_zip(
    out: IO[bytes],
    photos: Sequence[Photo],
    names: Sequence[str],
    read: Any,
) -> None:
    """Every photo, stored, into the ZIP on `out` (an unseekable stream), its bytes from
    `read(index) -> Entry`, each checked against its recorded digest (ORIGINAL_CHANGED)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for index, (photo, name) in enumerate(zip(photos, names, strict=True)):
            entry = read(index)
            info = zipfile.ZipInfo(name, date_time=photo.taken)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            info.external_attr = 0o644 << 16  # rw-r--r-- when extracted
            digest = hashlib.sha256()
            with archive.open(info, "w") as stored:
                for chunk in entry.chunks:
                    digest.update(chunk)
                    stored.write(chunk)
            if photo.sha256 and digest.hexdigest() != photo.sha256:
                raise ExportFailed(
                    "ORIGINAL_CHANGED", f"The original of {name} is not the photo uploaded."
                )
