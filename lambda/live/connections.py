"""The WebSocket API's `$connect` and `$disconnect` routes (common.live): a connection is
accepted only with a valid Cognito ID token in `?token=`; anything else is refused with 401
before the socket opens."""

from __future__ import annotations

from typing import Any

from common import live
from common.observability import lambda_entry, logger
from common.tokens import Unauthorized


def _connection_id(event: dict[str, Any]) -> str:
    return event["requestContext"]["connectionId"]


@lambda_entry(correlation_id_path="requestContext.connectionId")
def connect(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        live.connect(_connection_id(event), token)
    except Unauthorized as err:
        logger.warning("connection refused", extra={"reason": str(err)})
        return {"statusCode": 401, "body": "Unauthorized"}
    return {"statusCode": 200}


@lambda_entry(correlation_id_path="requestContext.connectionId")
def disconnect(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    live.disconnect(_connection_id(event))
    return {"statusCode": 200}
