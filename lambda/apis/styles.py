"""GET /apis/styles: the active base resources with presigned image URLs."""

from __future__ import annotations

from style_backend import http
from style_backend.styles import StyleCatalog


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    http.caller_id(event)  # any signed-in user; the claim check is defence in depth
    return http.respond(200, StyleCatalog().listing())
