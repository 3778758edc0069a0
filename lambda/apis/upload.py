"""POST /apis/images/upload: start a styling process and get a presigned upload form."""

from __future__ import annotations

from style_backend import http
from style_backend.uploads import UPLOAD_REQUEST, start_upload


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    user_id = http.caller_id(event)
    body = http.json_body(event, UPLOAD_REQUEST)
    return http.respond(201, start_upload(user_id, body["contentType"], body["resourceIds"]))
