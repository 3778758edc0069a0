"""The local WebSocket API (local/websocket.py) on a port of its own, its routes answered by small
functions in this process: the handshake as `$connect` decides, `$disconnect` on close, the
management API as boto3 calls it (410 for a connection that is gone), a client's message
refused, and API Gateway's event shapes."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local.functions import InvocationError
from local.topology import FunctionRef, WebSocketApiSpec
from local.websocket import WebSocketApi

CONNECT, DISCONNECT = FunctionRef("Live", "Connect"), FunctionRef("Live", "Disconnect")


class Routes:
    """Records each event; `$connect` lets in `?token=good` only, `?token=crash` raises."""

    def __init__(self) -> None:
        self.events: list[tuple[FunctionRef, dict[str, Any]]] = []

    def __call__(self, ref: FunctionRef, event: dict[str, Any]) -> Any:
        self.events.append((ref, event))
        if ref == CONNECT:
            token = (event.get("queryStringParameters") or {}).get("token")
            if token == "crash":
                raise InvocationError("boom", "Traceback …")
            return {"statusCode": 200} if token == "good" else {"statusCode": 401}
        return {"statusCode": 200}

    def of(self, ref: FunctionRef) -> list[dict[str, Any]]:
        return [event for r, event in self.events if r == ref]


@pytest.fixture
def api():
    routes = Routes()
    spec = WebSocketApiSpec("Live", "Api", "prod", {"$connect": CONNECT, "$disconnect": DISCONNECT})
    served = WebSocketApi(spec, routes)
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    threading.Thread(target=served.serve_on, args=(listening,), daemon=True).start()
    yield served, routes, f"ws://127.0.0.1:{port}/prod", f"http://127.0.0.1:{port}/prod"
    served.close()
    listening.close()


def management(url: str):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-west-2",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1}),
    )


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_connect_sees_api_gateways_event_and_its_answer_decides(api):
    _, routes, ws, _ = api
    for token, status in (("bad", 401), ("crash", 500)):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{ws}?token={token}", open_timeout=5)
        assert refused.value.response.status_code == status
    with connect(f"{ws}?token=good", open_timeout=5):
        pass
    event = routes.of(CONNECT)[-1]
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"], context["stage"]) == (
        "$connect",
        "CONNECT",
        "prod",
    )
    assert event["queryStringParameters"] == {"token": "good"}
    assert context["connectionId"].endswith("=")
    # Only the socket that opened is disconnected; a refused handshake never was connected.
    _wait(lambda: routes.of(DISCONNECT))
    (disconnected,) = routes.of(DISCONNECT)
    assert disconnected["requestContext"]["connectionId"] == context["connectionId"]


def test_only_the_stage_path_is_a_socket(api):
    _, _, ws, _ = api
    with pytest.raises(InvalidStatus) as refused:
        connect(ws.replace("/prod", "/other") + "?token=good", open_timeout=5)
    assert refused.value.response.status_code == 403


def test_posts_arrive_in_order_and_a_closed_socket_is_gone_and_disconnected(api):
    served, routes, ws, http = api
    client = management(http)
    with connect(f"{ws}?token=good", open_timeout=5) as socket_:
        connection_id = routes.of(CONNECT)[-1]["requestContext"]["connectionId"]
        for n in range(5):
            client.post_to_connection(ConnectionId=connection_id, Data=json.dumps({"n": n}))
        assert [json.loads(socket_.recv(timeout=5))["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    _wait(lambda: routes.of(DISCONNECT))
    (event,) = routes.of(DISCONNECT)
    assert event["requestContext"]["connectionId"] == connection_id
    assert event["requestContext"]["eventType"] == "DISCONNECT"
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert served.gone == 1


def test_delete_closes_the_socket_and_a_clients_message_is_forbidden(api):
    _, routes, ws, http = api
    client = management(http)
    with connect(f"{ws}?token=good", open_timeout=5) as socket_:
        connection_id = routes.of(CONNECT)[-1]["requestContext"]["connectionId"]
        socket_.send('{"action": "hello"}')
        answer = json.loads(socket_.recv(timeout=5))
        assert answer["message"] == "Forbidden" and answer["connectionId"] == connection_id
        client.delete_connection(ConnectionId=connection_id)
        _wait(lambda: routes.of(DISCONNECT))
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId=connection_id)
