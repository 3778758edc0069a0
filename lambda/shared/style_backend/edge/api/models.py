"""Every request body, query string, path parameter and response of the REST API, as pydantic v2
models. Powertools validates requests and responses against them and generates docs/openapi.json
from them: the document and the checks cannot drift apart.

Error messages are the API's own (`common.api.describe`), not pydantic's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from common.api import ErrorDetail
from style_backend.domain.process import Status, StyleStatus
from style_backend.domain.results import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PROCESS_ID_PATTERN
from style_backend.domain.styles import RESOURCE_ID_PATTERN
from style_backend.domain.uploads import MAX_STYLES_PER_UPLOAD, UPLOAD_EXTENSIONS


class Request(BaseModel):
    """A request body: a JSON object with exactly the documented fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _omit_if_none(**kw: Any) -> Any:
    """An optional response field that is left out (not null) when it has no value."""
    return Field(default=None, exclude_if=lambda value: value is None, **kw)


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("unique_items", "must not repeat an item")
    return values


def _ascii_integer(value: Any) -> Any:
    """Query values arrive as text: only ASCII digits make an integer (no `1_0`, ` 1 `, `１`)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("int_parsing", "must be an integer")
    return value


# ---------------------------------------------------------------- parameters

UserId = Annotated[str, Field(min_length=1, max_length=128, description="Your Cognito sub.")]
ProcessId = Annotated[str, Field(pattern=PROCESS_ID_PATTERN, description="A processId.")]
ResourceId = Annotated[str, Field(pattern=RESOURCE_ID_PATTERN)]
PageSize = Annotated[
    int, BeforeValidator(_ascii_integer), Field(ge=1, le=MAX_PAGE_SIZE, description="Per page.")
]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE

# ---------------------------------------------------------------- bodies


class AgreeRequest(Request):
    termsVersion: str = Field(
        min_length=1,
        max_length=64,
        description="The version the user read and accepts; must be the current one.",
    )


def media_type(accepted: Iterable[str]) -> Any:
    """A media type field: the document lists `accepted` (an enum, so the typed client does
    too); another is a 415 (edge.UNSUPPORTED_MEDIA_TYPE), not a 400."""
    types = sorted(accepted)

    def check(value: str) -> str:
        if value not in types:
            raise PydanticCustomError(
                "unsupported_media_type", "must be one of {types}", {"types": ", ".join(types)}
            )
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra={"enum": types})]


SelfieType = media_type(UPLOAD_EXTENSIONS)


class UploadRequest(Request):
    contentType: SelfieType = Field(description="Media type of the selfie the client will upload.")
    resourceIds: Annotated[
        list[ResourceId],
        Field(
            min_length=1, max_length=MAX_STYLES_PER_UPLOAD, json_schema_extra={"uniqueItems": True}
        ),
        AfterValidator(_distinct),
    ] = Field(description=f"Styles (base resources) to apply, 1 to {MAX_STYLES_PER_UPLOAD} ids.")


# ---------------------------------------------------------------- responses


class AgreementStatus(BaseModel):
    agreed: bool
    termsVersion: str = Field(description="The current terms version.")
    agreedAt: str | None = Field(json_schema_extra={"format": "date-time"})


class AgreementRecord(BaseModel):
    termsVersion: str
    agreedAt: str = Field(json_schema_extra={"format": "date-time"})


class Style(BaseModel):
    resourceId: str
    theme: str
    gender: str
    skinTone: str
    imageUrl: str = Field(json_schema_extra={"format": "uri"})


class StyleList(BaseModel):
    items: list[Style]


class UploadForm(BaseModel):
    url: str = Field(json_schema_extra={"format": "uri"})
    fields: dict[str, str] = Field(
        description="Form fields to send before the `file` field, as they are."
    )


class UploadTicket(BaseModel):
    processId: str
    upload: UploadForm
    expiresIn: int = Field(description="Seconds the upload form stays valid.")


class StyleState(BaseModel):
    status: StyleStatus
    resultUrl: str | None = _omit_if_none(json_schema_extra={"format": "uri"})
    error: ErrorDetail | None = _omit_if_none()


class Progress(BaseModel):
    processId: str
    status: Status
    styles: dict[str, StyleState] = Field(
        description="Per requested style (resourceId → its state)."
    )
    error: ErrorDetail | None = _omit_if_none()


class Result(BaseModel):
    resultId: str
    processId: str
    resourceId: str
    url: str = Field(json_schema_extra={"format": "uri"})
    createdAt: str = Field(json_schema_extra={"format": "date-time"})


class ResultPage(BaseModel):
    items: list[Result]
    nextToken: str | None = _omit_if_none(description="Pass back to get the next page.")


class ErasureCounts(BaseModel):
    """How many objects and items this request removed."""

    objects: int
    processes: int
    results: int
    history: int
    agreements: int
    albums: int  # FaceFlow albums of the user, every object and item of each


class ErasureSummary(BaseModel):
    userId: str
    deleted: ErasureCounts
