"""Live progress over the WebSocket API: who is connected (the connections table), who they are
(the Cognito ID token `$connect` carries) and pushing one message to every connection of a user.

Neutral on purpose: each product turns its own table's stream records into messages
(`faceflow.edge.live`, `style_backend.edge.live`); this module only knows connections.

The connections table: `connectionId` (S) key, `userId`, `connectedAt`, `ttl` (N, epoch s), GSI
`byUser` (`userId`). API Gateway closes a WebSocket after two hours at most, so an item whose
`$disconnect` never came (a crashed disconnect handler) expires soon after; a connection that is
gone before then answers 410 to the management API and is deleted by the push that met it (one
younger than HANDSHAKE_GRACE_S may still be opening: it is kept).
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from common import aws, config
from common.tokens import verify_id_token

BY_USER = "byUser"  # the connections table's index (stacks/live/websocket.py creates it)
TTL_ATTRIBUTE = "ttl"
# API Gateway's hard limit on a WebSocket's life, plus a margin for clocks and the TTL sweeper.
CONNECTION_LIFETIME_S = 2 * 3600 + 600
# A connection is recorded by `$connect` before API Gateway finishes its handshake: a push in
# between answers 410 for a socket about to open. So young a connection is not forgotten for it.
HANDSHAKE_GRACE_S = 30


class LiveEnv(StrEnum):
    CONNECTIONS_TABLE = "CONNECTIONS_TABLE"
    # The API's endpoint and stage as its `ApiEndpoint` attribute spells it (wss://…/prod): the
    # management API (@connections) is the same host over https.
    WEBSOCKET_ENDPOINT = "WEBSOCKET_ENDPOINT"
    USER_POOL_ID = "USER_POOL_ID"
    USER_POOL_CLIENT_ID = "USER_POOL_CLIENT_ID"


def _table():
    return aws.table(config.get(LiveEnv.CONNECTIONS_TABLE))


def connect(connection_id: str, token: str | None, now: float | None = None) -> str:
    """Record the connection of the token's user; returns the user id. A token that does not
    verify raises `common.tokens.Unauthorized` (the handler answers 401: no connection)."""
    claims = verify_id_token(
        token or "", config.get(LiveEnv.USER_POOL_ID), config.get(LiveEnv.USER_POOL_CLIENT_ID)
    )
    at = int(now if now is not None else time.time())
    _table().put_item(
        Item={
            "connectionId": connection_id,
            "userId": claims["sub"],
            "connectedAt": at,
            TTL_ATTRIBUTE: at + CONNECTION_LIFETIME_S,
        }
    )
    return claims["sub"]


def disconnect(connection_id: str) -> None:
    _table().delete_item(Key={"connectionId": connection_id})


def connections_of(user_id: str) -> list[tuple[str, int]]:
    """(connection id, connected at, epoch s) of every connection of the user."""
    found: list[tuple[str, int]] = []
    kwargs: dict[str, Any] = {
        "IndexName": BY_USER,
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": user_id},
        "ProjectionExpression": "connectionId, connectedAt",
    }
    while True:
        page = _table().query(**kwargs)
        found += [
            (item["connectionId"], int(item.get("connectedAt", 0)))
            for item in page.get("Items", [])
        ]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def management_endpoint(websocket_endpoint: str) -> str:
    """wss://{api}.execute-api.{region}.amazonaws.com/{stage} → the https callback URL."""
    scheme, sep, rest = websocket_endpoint.partition("://")
    return {"wss": "https", "ws": "http"}.get(scheme, scheme) + sep + rest


def _management():
    return aws.client_at(
        "apigatewaymanagementapi",
        management_endpoint(config.get(LiveEnv.WEBSOCKET_ENDPOINT)),
    )


def _number(value: Any) -> int | float:
    """DynamoDB's Decimals (counts, sizes) as JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def push(user_id: str, message: dict[str, Any], now: float | None = None) -> int:
    """Send `message` to every connection of `user_id`; returns how many got it. A connection
    the management API says is gone (410) is forgotten, unless it is still within its handshake
    (HANDSHAKE_GRACE_S); other errors raise (the stream retries the batch: a message is sent
    again rather than lost)."""
    data = json.dumps(message, separators=(",", ":"), default=_number).encode()
    at = now if now is not None else time.time()
    sent = 0
    for connection_id, connected_at in connections_of(user_id):
        try:
            _management().post_to_connection(ConnectionId=connection_id, Data=data)
            sent += 1
        except Exception as err:
            if aws.error_code(err) != "GoneException":
                raise
            if at - connected_at >= HANDSHAKE_GRACE_S:
                disconnect(connection_id)
    return sent
