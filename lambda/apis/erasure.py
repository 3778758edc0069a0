"""DELETE /apis/images/{userId}: erase every object and item of the caller (202 + summary), in
every product (common.erasure runs each product's registered eraser)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

import faceflow.storage.albums  # noqa: F401 (registers FaceFlow's eraser)
from common import api as edge
from style_backend.edge import erasure  # registers the styling flow's eraser
from style_backend.edge.api.models import ErasureSummary, UserId

router = Router()


@router.delete(
    "/apis/images/<userId>",
    status_code=202,
    summary="Erase every image and record of the caller (right to erasure)",
    responses=edge.documented(202, 400, 401, 403),
)
def erase(userId: Annotated[UserId, Path()]) -> ErasureSummary:
    user_id = edge.own_user_id(router, userId)
    claims = router.current_event.raw_event["requestContext"]["authorizer"]["claims"]
    return ErasureSummary(**erasure.erase_caller(user_id, claims))


app = edge.resolver(router)
handler = edge.entry_point(app)
