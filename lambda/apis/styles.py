"""GET /apis/styles: the active base resources with presigned image URLs."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from common import api as edge
from style_backend.edge import styles
from style_backend.edge.api.models import StyleList

router = Router()


@router.get(
    "/apis/styles",
    summary="Active styles (base resources) with presigned image URLs",
    responses=edge.documented(200),
)
def list_styles() -> StyleList:
    edge.caller_id(router)  # any signed-in user; the claim check is defence in depth
    return StyleList(**styles.listing())


app = edge.resolver(router)
handler = edge.entry_point(app)
