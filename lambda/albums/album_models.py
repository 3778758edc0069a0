"""The album API's request and response bodies (pydantic v2): the contract of issue 11."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from faceflow.config import MAX_PHOTO_BYTES_CEILING
from faceflow.domain.uploads import EXTENSIONS
from style_backend.edge.api.models import media_type

SHA256 = r"^[0-9a-fA-F]{64}$"
PhotoType = media_type(EXTENSIONS)  # JPEG, PNG, WebP, HEIC, AVIF; another is a 415


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateAlbum(_Model):
    name: str = Field(min_length=1, max_length=100)
    purgeOriginals: bool = Field(
        default=False,
        strict=True,  # true/false only, never "yes" or 1
        description="Delete each original once processed (thumbnails, crops, vectors stay)",
    )


class AlbumCreated(_Model):
    albumId: str
    name: str
    createdAt: str


class AlbumSummary(AlbumCreated):
    photoCount: int


class AlbumPage(_Model):
    items: list[AlbumSummary]
    nextToken: str | None


class AlbumDeleted(_Model):
    albumId: str


class PhotoUploadRequest(_Model):
    fileName: str = Field(min_length=1, max_length=255)
    contentType: PhotoType
    size: int = Field(
        ge=1,
        le=MAX_PHOTO_BYTES_CEILING,
        description="Bytes; above the deployment's album_max_photo_bytes (at most this) is a 413.",
    )
    sha256: str | None = Field(default=None, pattern=SHA256)


class PutUpload(_Model):
    method: Literal["PUT"]
    url: str
    headers: dict[str, str]


class PartUrl(_Model):
    partNumber: int
    url: str


class MultipartUpload(_Model):
    method: Literal["MULTIPART"]
    uploadId: str
    partSize: int
    parts: list[PartUrl]


class PhotoUploadTicket(_Model):
    photoId: str
    upload: PutUpload | MultipartUpload | None
    duplicateOf: str | None = None


class ReceivedPart(_Model):
    partNumber: int
    etag: str
    size: int


class UploadProgress(_Model):
    photoId: str
    upload: PutUpload | MultipartUpload
    received: list[ReceivedPart]


# A completion's body stays within the API's 16 KiB (common.api.MAX_BODY_BYTES): at
# most MAX_PARTS parts (50 MiB photos in 5 MiB parts are 10), S3 ETags in printable ASCII.
MAX_PARTS = 100


class CompletedPart(_Model):
    partNumber: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=48, pattern=r"^[!-~]+$")


class CompleteUpload(_Model):
    parts: list[CompletedPart] = Field(default_factory=list, max_length=MAX_PARTS)


class UploadCompleted(_Model):
    photoId: str
    status: str


class NotDuplicate(_Model):
    """A photo released from DUPLICATE: processed for faces again, in a job of its own."""

    photoId: str
    status: Literal["PROCESSING"]


class AlbumErrorDetail(_Model):
    code: str
    message: str


class Photo(_Model):
    photoId: str
    fileName: str
    status: Literal["UPLOADING", "PROCESSING", "PROCESSED", "DUPLICATE", "FAILED"]
    duplicateOf: str | None
    width: int | None
    height: int | None
    takenAt: str | None
    faces: int
    thumbnailUrl: str | None
    error: AlbumErrorDetail | None


class PhotoPage(_Model):
    items: list[Photo]
    nextToken: str | None


class PhotoCounts(_Model):
    total: int
    processed: int
    duplicates: int
    failed: int
    pending: int


class Job(_Model):
    jobId: str
    status: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
    photoCount: int
    createdAt: str
    updatedAt: str
    error: AlbumErrorDetail | None


class AlbumStatus(_Model):
    albumId: str
    status: Literal["IDLE", "PROCESSING"]
    photos: PhotoCounts
    faces: int
    clusters: int
    jobs: list[Job]
