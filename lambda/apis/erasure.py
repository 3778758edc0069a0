"""DELETE /apis/images/{userId}: erase every object and item of the caller (202 + summary)."""

from __future__ import annotations

from style_backend import accounts, http
from style_backend.erasure import erase_user


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    user_id = http.own_user_id(event)
    try:  # a destructive route: the token's account must still exist
        accounts.require_active(event["requestContext"]["authorizer"]["claims"])
    except accounts.InactiveAccount as gone:
        raise http.ApiError(401, "UNAUTHORIZED", str(gone)) from None
    return http.respond(202, erase_user(user_id))
