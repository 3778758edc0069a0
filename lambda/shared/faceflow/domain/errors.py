"""What FaceFlow refuses: each a common.errors.DomainError with a code (common.api.STATUS maps
the code to an HTTP status at the edge; no status here). The curation model's own refusal,
`people.EditRefused`, carries its code per instance."""

from __future__ import annotations

from common.errors import DomainError


class AlbumError(DomainError):
    """A request the album domain refuses; `code` and `message` are for the client."""

    code = "VALIDATION_ERROR"


class AlbumNotFound(AlbumError):
    code = "NOT_FOUND"

    def __init__(self, what: str = "album"):
        super().__init__(f"No such {what}.")


class InvalidUpload(AlbumError):
    pass


class UnsupportedType(AlbumError):
    code = "UNSUPPORTED_MEDIA_TYPE"


class UploadTooLarge(AlbumError):
    code = "FILE_TOO_LARGE"


class UploadConflict(AlbumError):
    code = "CONFLICT"


class NotADuplicate(UploadConflict):
    """409: the photo is not (or no longer) marked DUPLICATE."""


class ClusterNotFound(AlbumError):
    code = "NOT_FOUND"

    def __init__(self, cluster_id: str):
        super().__init__(f"No cluster {cluster_id} in this album.")


class EditConflict(AlbumError):
    code = "CONFLICT"


class InvalidShare(AlbumError):
    pass


class NoPhotosToShare(AlbumError):
    code = "NO_PHOTOS"


class ShareRateLimited(AlbumError):
    """`retry_after`: seconds until the window that refused ends."""

    code = "RATE_LIMITED"


class ExportFailed(Exception):
    """Permanent: the share ends FAILED with this reason (no client's error: the share says it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message
