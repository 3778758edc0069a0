"""Errors a training or serving run reports to its caller instead of a traceback."""


class DataError(ValueError):
    """A channel's data cannot be read (missing file, malformed annotation, no identity)."""


class BadRequest(ValueError):
    """An invocation the endpoint cannot answer: HTTP 4xx with the reason."""

    def __init__(self, message: str, code: str = "BAD_REQUEST", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
