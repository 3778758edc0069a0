"""The people API's request and response bodies (pydantic v2): the contract of issue 12."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from faceflow.domain.people import LABEL_PATTERN, MAX_LABEL

# Face ids are "{photoId}-{n}" (faceflow.storage.keys), cluster ids "C-" + a face id (+ "-n").
ClusterId = Annotated[str, Field(min_length=3, max_length=128, pattern=r"^C-[0-9a-f-]+$")]
FaceId = Annotated[str, Field(min_length=3, max_length=40, pattern=r"^[0-9a-f]+-[0-9]+$")]
# A split's body stays within the API's 16 KiB (common.api.MAX_BODY_BYTES).
MAX_FACES_PER_SPLIT = 300


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Face(_Model):
    faceId: str
    photoId: str
    box: list[float] = Field(min_length=4, max_length=4, description="x, y, width, height")
    score: float
    cropUrl: str


class Cluster(_Model):
    clusterId: str
    label: str | None
    size: int
    confidence: float
    faces: list[Face]


class ClusterPage(_Model):
    items: list[Cluster]
    nextToken: str | None


class LabelCluster(_Model):
    name: str = Field(
        min_length=1,
        max_length=MAX_LABEL,
        pattern=LABEL_PATTERN,
        description="Leading and trailing white space is dropped; something else must remain.",
    )


class MergeClusters(_Model):
    clusterIds: list[ClusterId] = Field(
        min_length=2, max_length=100, json_schema_extra={"uniqueItems": True}
    )


class SplitCluster(_Model):
    faceIds: list[FaceId] = Field(min_length=1, max_length=MAX_FACES_PER_SPLIT)


class ClusterRef(_Model):
    clusterId: str


class Edit(_Model):
    editId: str
    type: Literal["LABEL", "MERGE", "SPLIT"]
    clusterId: str


class EditPage(_Model):
    items: list[Edit]


class Undone(_Model):
    editId: str
    type: Literal["LABEL", "MERGE", "SPLIT"]


class Suggestion(_Model):
    clusterId: str
    label: str | None
    size: int
    similarity: float
    cropUrl: str


class SuggestionList(_Model):
    items: list[Suggestion]


class Reclustered(_Model):
    clusters: int = Field(description="The album's clusters (before the queued recluster ran)")
    queued: bool = Field(
        False,
        description="A large album: the recluster was handed to the album's clustering writer "
        "(202); the clusters change when it has run",
    )
