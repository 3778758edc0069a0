"""GET /apis/images/{userId}: the caller's results, newest first, paginated.
GET /apis/images/{userId}/processes/{processId}: progress of one of the caller's processes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from common import api as edge
from common.api import NextToken
from style_backend.edge import images
from style_backend.edge.api.models import (
    DEFAULT_LIMIT,
    PageSize,
    ProcessId,
    Progress,
    ResultPage,
    UserId,
)

router = Router()


@router.get(
    "/apis/images/<userId>",
    summary="The caller's styled results, newest first, paginated",
    responses=edge.documented(200, 400, 403),
)
def list_results(
    userId: Annotated[UserId, Path()],
    limit: Annotated[PageSize, Query()] = DEFAULT_LIMIT,
    nextToken: Annotated[NextToken | None, Query()] = None,
) -> ResultPage:
    user_id = edge.own_user_id(router, userId)
    return ResultPage(**images.results_page(user_id, limit, nextToken))


@router.get(
    "/apis/images/<userId>/processes/<processId>",
    summary="Progress of one of the caller's processes",
    responses=edge.documented(200, 400, 403, 404),
)
def process_progress(
    userId: Annotated[UserId, Path()], processId: Annotated[ProcessId, Path()]
) -> Progress:
    return Progress(**images.progress(edge.own_user_id(router, userId), processId))


app = edge.resolver(router)
handler = edge.entry_point(app)
