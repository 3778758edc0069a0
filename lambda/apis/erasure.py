"""DELETE /apis/images/{userId}: erase every object and item of the caller (202 + summary)."""

from __future__ import annotations

from style_backend import http
from style_backend.erasure import erase_user


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    return http.respond(202, erase_user(http.own_user_id(event)))
