"""DELETE /apis/images/{userId}: erase every object and item of the caller (202 + summary)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from style_backend.api import edge
from style_backend.api.models import ErasureSummary, UserId
from style_backend.erasure import erase_user

router = Router()


@router.delete(
    "/apis/images/<userId>",
    status_code=202,
    summary="Erase every image and record of the caller (right to erasure)",
    responses=edge.documented(202, 400, 403),
)
def erase(userId: Annotated[UserId, Path()]) -> ErasureSummary:
    return ErasureSummary(**erase_user(edge.own_user_id(router, userId)))


app = edge.resolver(router)
handler = edge.entry_point(app)
