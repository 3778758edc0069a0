"""GET /agree: has the caller accepted the current terms? POST /agree: accept them."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from common import api as edge
from style_backend.edge import agreements
from style_backend.edge.api.models import AgreementRecord, AgreementStatus, AgreeRequest

router = Router()
# Agreeing takes the version the status names (stateful tests follow this link).
AGREE = edge.link("POST", "/agree", requestBody={"termsVersion": "$response.body#/termsVersion"})


@router.get(
    "/agree",
    summary="Whether the caller accepted the current user agreement",
    responses=edge.documented(200, links={"Agree": AGREE}),
)
def agreement_status() -> AgreementStatus:
    return AgreementStatus(**agreements.status(edge.caller_id(router)))


@router.post(
    "/agree",
    status_code=201,
    summary="Accept the current user agreement",
    responses=edge.documented(201, 400, 409, 413, 415),
)
def agree(body: AgreeRequest) -> AgreementRecord:
    user_id = edge.caller_id(router)
    source_ip, user_agent = edge.request_source(router)
    record = agreements.agree(user_id, body.termsVersion, source_ip, user_agent)
    return AgreementRecord(**record)


app = edge.resolver(router)
handler = edge.entry_point(app)
