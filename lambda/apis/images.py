"""GET /apis/images/{userId}: the caller's results, newest first, paginated.
GET /apis/images/{userId}/processes/{processId}: progress of one of the caller's processes."""

from __future__ import annotations

from style_backend import http
from style_backend.results import LIST_QUERY, PROCESS_ID, ResultGallery, progress
from style_backend.validation import Invalid, validate


@http.api_handler
def handler(event: dict, context: object = None) -> dict:
    user_id = http.own_user_id(event)
    if (event.get("pathParameters") or {}).get("processId") is not None:
        process_id = http.path_param(event, "processId")
        try:
            validate(process_id, PROCESS_ID)
        except Invalid:
            raise http.ApiError(404, "NOT_FOUND", "No such process.") from None
        return http.respond(200, progress(user_id, process_id))
    query = http.query_params(event, LIST_QUERY)
    return http.respond(200, ResultGallery().page(user_id, query["limit"], query.get("nextToken")))
