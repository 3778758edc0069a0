"""GET /agree: has the caller accepted the current terms? POST /agree: accept them."""

from __future__ import annotations

from style_backend import http
from style_backend.agreements import AGREE_REQUEST, AgreementStore


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    user_id = http.caller_id(event)
    store = AgreementStore()
    if event.get("httpMethod") == "POST":
        body = http.json_body(event, AGREE_REQUEST)
        source_ip, user_agent = http.request_source(event)
        record = store.agree(user_id, body["termsVersion"], source_ip, user_agent)
        return http.respond(201, record)
    return http.respond(200, store.status(user_id))
