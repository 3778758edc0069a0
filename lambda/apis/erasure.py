"""DELETE /apis/images/{userId}: erase every object and item of the caller (202 + summary), in
every product (common.erasure runs each product's registered eraser)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

import faceflow.albums  # noqa: F401 (registers FaceFlow's eraser)
import style_backend.erasure  # noqa: F401 (registers the styling flow's eraser)
from common import api as edge
from common.erasure import erase_user
from style_backend import accounts
from style_backend.api.models import ErasureSummary, UserId

router = Router()


@router.delete(
    "/apis/images/<userId>",
    status_code=202,
    summary="Erase every image and record of the caller (right to erasure)",
    responses=edge.documented(202, 400, 401, 403),
)
def erase(userId: Annotated[UserId, Path()]) -> ErasureSummary:
    user_id = edge.own_user_id(router, userId)
    # A destructive route: the token's account must still exist (401 otherwise).
    accounts.require_active(
        router.current_event.raw_event["requestContext"]["authorizer"]["claims"]
    )
    return ErasureSummary(**erase_user(user_id))


app = edge.resolver(router)
handler = edge.entry_point(app)
