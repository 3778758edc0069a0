"""Errors the serving app turns into `{"error": {"code", "message"}}` responses."""

from __future__ import annotations

from style_backend.domain.errors import Reason


class ServingError(Exception):
    """A failure with an HTTP status and a reason code a client can act on."""

    status = 500
    code = str(Reason.SWAP_FAILED)

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(ServingError):
    """The request itself is wrong: retrying it can never succeed."""

    status = 400
    code = "BAD_REQUEST"


class NoFace(BadRequest):
    code = str(Reason.NO_FACE)


class NotReady(ServingError):
    """The engine is still loading (SageMaker only routes traffic after /ping says 200)."""

    status = 503
    code = "NOT_READY"


class SwapFailed(ServingError):
    """The engine could not produce a result for valid inputs."""

    status = 500
    code = str(Reason.SWAP_FAILED)
