"""The share API's request and response bodies (pydantic v2): the contract of issue 13.

Recipient addresses carry the domain's own pattern and limit (faceflow.domain.shares), so the
document calls valid exactly what the domain accepts; the domain checks them again."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from faceflow.domain.shares import EMAIL_PATTERN, MAX_ADDRESS, MAX_RECIPIENTS

MAX_PEOPLE = 100
Status = Literal["BUILDING", "READY", "FAILED", "REVOKED", "EXPIRED"]
ClusterId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
Address = Annotated[str, Field(min_length=3, max_length=MAX_ADDRESS, pattern=EMAIL_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShareFilters(_Model):
    clusterIds: list[ClusterId] = Field(min_length=1, max_length=MAX_PEOPLE)


class CreateShare(_Model):
    recipients: list[Address] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    filters: ShareFilters
    # Shortened to what the exports bucket keeps (7 days by default): see expiresAt.
    expiresInDays: int | None = Field(default=None, ge=1, le=365)
    keepLocation: bool = Field(
        default=False,
        strict=True,  # true/false only, never "yes" or 1
        description="Ship the originals untouched, with where each photo was taken (EXIF GPS, "
        "XMP location). By default the location is removed, pixels untouched",
    )


class PreviewShare(_Model):
    filters: ShareFilters


class SharePreview(_Model):
    photoCount: int


class ShareCreated(_Model):
    shareId: str
    status: Status
    expiresAt: str
    recipients: list[str]
    photoCount: int
    keepLocation: bool


class ShareSummary(ShareCreated):
    createdAt: str


class SharePage(_Model):
    items: list[ShareSummary]


class SharedPhoto(_Model):
    photoId: str
    fileName: str
    url: str


class ShareErrorDetail(_Model):
    code: str
    message: str


class Share(_Model):
    shareId: str
    albumId: str
    status: Status
    expiresAt: str
    recipients: list[str]
    photoCount: int
    keepLocation: bool
    items: list[SharedPhoto]
    archiveUrl: str | None
    error: ShareErrorDetail | None
