"""Live progress end to end on the local runtime: the WebSocket API served from the synthesized
templates (`websocketUrl` in /config.json), `$connect` refusing bad tokens, and the messages the
publisher pushes from the tables' streams while real albums and styling processes run."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from local import seed
from local.album_client import AlbumUser
from local.client import TERMINAL, User
from local.photos import astronaut
from tests import hostile
from tests.tokens import CognitoPool, stranger_key

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def user(backend) -> AlbumUser:
    return AlbumUser.sign_up(backend)


def websocket_url(backend) -> str:
    config = requests.get(f"{backend.base_url}/config.json", timeout=10).json()
    return config["websocketUrl"]


def open_socket(backend, token: str) -> ClientConnection:
    return connect(f"{websocket_url(backend)}?token={token}", open_timeout=30)


def messages_until(socket: ClientConnection, done, timeout: float = 240) -> list[dict[str, Any]]:
    """Every message until `done(message)` holds (that one included)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        got.append(message)
        if done(message):
            return got
    raise AssertionError(f"not done after {timeout}s: {got}")


def test_config_announces_the_stage_of_the_templates_websocket_api(backend):
    url = websocket_url(backend)
    assert url.startswith("ws://127.0.0.1:") and url.endswith("/prod")


@pytest.mark.parametrize("kind", ["none", "forged", "expired", "access-token"])
def test_bad_tokens_are_refused_at_connect(backend, user, kind):
    # A token like the pool's own but signed by a stranger, or a real one expired: the connect
    # function verifies against the pool's JWKS (moto's), as on AWS.
    pool = CognitoPool(
        issuer=f"https://cognito-idp.{backend.region}.amazonaws.com/{backend.user_pools[0].pool_id}",
        client_id=backend.user_pools[0].client_ids[0],
    )
    token = {
        "none": "",
        "forged": pool.mint(user.sub, signing_key=stranger_key(_kid(user.token))),
        "expired": pool.mint(user.sub, expires_in=-1, signing_key=stranger_key(_kid(user.token))),
        "access-token": pool.mint(user.sub, token_use="access"),
    }[kind]
    with pytest.raises(InvalidStatus) as refused:
        open_socket(backend, token)
    assert refused.value.response.status_code == 401


def _kid(token: str) -> str:
    from joserfc.jws import extract_compact

    return extract_compact(token.encode()).protected["kid"]


def test_an_album_run_is_pushed_in_order_and_ends_idle_like_its_status(backend, user):
    album = user.create_album("Live")
    with open_socket(backend, user.token) as socket:
        user.upload(album, hostile.jpeg(astronaut()), "astronaut.jpg")
        got = messages_until(
            socket, lambda m: m["type"] == "album.status" and m["status"] == "IDLE"
        )
    assert {m["type"] for m in got} == {"album.status"}
    assert {m["albumId"] for m in got} == {album}
    statuses = [m["status"] for m in got]
    assert statuses[-1] == "IDLE" and set(statuses[:-1]) <= {"PROCESSING"}
    assert len(got) >= 2  # at least the job's start and its end
    status = user.status(album)
    assert got[-1] == {"type": "album.status", **{k: status[k] for k in got[-1] if k != "type"}}
    assert got[-1]["photos"]["processed"] == 1 and got[-1]["faces"] >= 1


def test_a_styling_process_is_pushed_until_it_ends(backend):
    styling = User.sign_up(backend)
    styling.agree()
    with open_socket(backend, styling.token) as socket:
        process_id = styling.upload(hostile.no_face(), [seed.STYLES[0].resource_id])
        got = messages_until(
            socket, lambda m: m.get("processId") == process_id and m["status"] in TERMINAL
        )
    statuses = [m["status"] for m in got]
    assert [s for i, s in enumerate(statuses) if statuses[i - 1 : i] != [s]] == [
        "CREATED",
        "FAILED",
    ]
    assert got[-1]["error"]["code"] == "NO_FACE"
    assert got[-1] == {"type": "process.status", **styling.progress(process_id)}


def test_a_socket_opened_again_gets_what_happens_next(backend, user):
    first = open_socket(backend, user.token)
    first.close()
    album = user.create_album("Again")
    with open_socket(backend, user.token) as socket:
        user.upload(album, hostile.jpeg(astronaut()), "again.jpg")
        got = messages_until(socket, lambda m: m.get("albumId") == album and m["status"] == "IDLE")
    assert got[-1]["photos"]["total"] == 1


def test_a_connection_gone_without_disconnect_is_forgotten_at_the_next_push(backend, user):
    table = backend.environment_of("connections.connect")["CONNECTIONS_TABLE"]
    ddb = backend.client("dynamodb")
    # A socket whose $disconnect never ran (its function crashed): the table still names it.
    ddb.put_item(
        TableName=table,
        Item={
            "connectionId": {"S": "vanished0000="},
            "userId": {"S": user.sub},
            "connectedAt": {"N": "0"},
            "ttl": {"N": str(int(time.time()) + 3600)},
        },
    )
    album = user.create_album("Gone")
    with open_socket(backend, user.token) as socket:
        user.upload(album, hostile.jpeg(astronaut()), "gone.jpg")
        messages_until(socket, lambda m: m.get("albumId") == album and m["status"] == "IDLE")
    left = ddb.get_item(TableName=table, Key={"connectionId": {"S": "vanished0000="}})
    assert "Item" not in left
    assert backend.websockets.gone >= 1


def test_a_closed_socket_is_disconnected(backend, user):
    table = backend.environment_of("connections.connect")["CONNECTIONS_TABLE"]
    ddb = backend.client("dynamodb")

    def mine() -> set[str]:  # the user's connections (an earlier test's may go meanwhile)
        items = ddb.scan(TableName=table)["Items"]
        return {i["connectionId"]["S"] for i in items if i["userId"]["S"] == user.sub}

    before = mine()
    socket = open_socket(backend, user.token)
    (opened,) = mine() - before
    socket.close()
    deadline = time.monotonic() + 10
    while opened in mine() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert opened not in mine()


# The order a styling process moves in (docs/architecture.md, "Process status").
PROCESS_ORDER = ["CREATED", "CROPPED", "SWAPPING", "COMPLETED"]


def _without_urls(progress: dict[str, Any]) -> dict[str, Any]:
    """Presigned URLs differ between two signings of the same object."""
    styles = {
        k: {n: v for n, v in s.items() if n != "resultUrl"} for k, s in progress["styles"].items()
    }
    return {**progress, "styles": styles}


def test_a_styled_process_is_pushed_in_order_until_completed(backend):
    styling = User.sign_up(backend)
    styling.agree()
    resource_id = seed.STYLES[0].resource_id
    with open_socket(backend, styling.token) as socket:
        process_id = styling.upload(hostile.jpeg(astronaut()), [resource_id])
        got = messages_until(
            socket, lambda m: m.get("processId") == process_id and m["status"] in TERMINAL
        )
    statuses = [m["status"] for m in got]
    assert statuses[0] == "CREATED" and statuses[-1] == "COMPLETED", statuses
    assert [PROCESS_ORDER.index(s) for s in statuses] == sorted(
        PROCESS_ORDER.index(s) for s in statuses
    )
    style_statuses = [m["styles"][resource_id]["status"] for m in got]
    assert style_statuses[-1] == "COMPLETED" and "SWAPPING" in style_statuses
    assert requests.get(got[-1]["styles"][resource_id]["resultUrl"], timeout=30).status_code == 200
    current = styling.progress(process_id)
    assert _without_urls(got[-1]) == {"type": "process.status", **_without_urls(current)}


def test_a_share_is_pushed_building_then_ready(backend):
    from tests.e2e.test_sharing import shared_album

    user, album, person, _ = shared_album(backend)
    body = {"recipients": ["friend@example.com"], "filters": {"clusterIds": [person]}}
    with open_socket(backend, user.token) as socket:
        r = user.call("POST", f"/albums/{album}/share", body)
        assert r.status_code == 201, r.text
        share_id = r.json()["shareId"]
        got = messages_until(
            socket, lambda m: m["type"] == "share.status" and m["status"] != "BUILDING"
        )
    shares = [m for m in got if m["type"] == "share.status"]
    statuses = [m["status"] for m in shares]
    assert (statuses[0], statuses[-1]) == ("BUILDING", "READY"), statuses
    assert {m["shareId"] for m in shares} == {share_id} and {m["albumId"] for m in shares} == {
        album
    }
