"""POST /apis/images/upload: start a styling process and get a presigned upload form."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from common import api as edge
from common.observability import MetricUnit, metrics
from style_backend.edge import uploads
from style_backend.edge.api.models import UploadRequest, UploadTicket

router = Router()
# The ticket's processId is what the progress route takes (stateful tests follow this link).
PROGRESS = edge.link(
    "GET", "/apis/images/{userId}/processes/{processId}", processId="$response.body#/processId"
)


@router.post(
    "/apis/images/upload",
    status_code=201,
    summary="Start a styling process: returns a presigned POST for the selfie",
    responses=edge.documented(201, 400, 403, 409, 413, 415, links={"Progress": PROGRESS}),
)
def upload(body: UploadRequest) -> UploadTicket:
    ticket = uploads.start_upload(edge.caller_id(router), body.contentType, body.resourceIds)
    metrics.add_metric(name="UploadsAccepted", unit=MetricUnit.Count, value=1)
    return UploadTicket(**ticket)


app = edge.resolver(router)
handler = edge.entry_point(app)
