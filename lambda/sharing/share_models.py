"""The share API's request and response bodies (pydantic v2): the contract of issue 13.

Recipient addresses are checked by the domain (faceflow.sharing.validate_recipients, which names
the offending entry); here only the body's size is bounded."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# The deployment's limit (share_max_recipients) is checked by the domain; this one only keeps a
# body's list within reason before it gets there.
MAX_LISTED = 100
Status = Literal["BUILDING", "READY", "FAILED", "REVOKED", "EXPIRED"]
ClusterId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
Address = Annotated[str, Field(min_length=1, max_length=320)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShareFilters(_Model):
    clusterIds: list[ClusterId] = Field(min_length=1, max_length=MAX_LISTED)


class CreateShare(_Model):
    recipients: list[Address] = Field(min_length=1, max_length=MAX_LISTED)
    filters: ShareFilters
    expiresInDays: int | None = Field(default=None, ge=1, le=365)


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
    items: list[SharedPhoto]
    archiveUrl: str | None
    error: ShareErrorDetail | None
