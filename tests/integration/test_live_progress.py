"""Live progress against moto (decorator mode): `$connect`/`$disconnect` as API Gateway invokes
them, and the publisher fed the very records moto's DynamoDB streams hold after the products'
own writes (jobs, shares, processes), filtered by the stack's filter patterns as Lambda does.
Messages are read back from moto's management API; a gone connection is a stubbed 410.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import boto3
import connections
import publisher
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

from common import aws, live, tokens
from faceflow.storage import albums, jobs, keys
from faceflow.storage import table as album_table
from local.streams import lambda_record, record_matches
from stacks.live.publisher import ALBUM_FILTER, PROCESS_FILTER
from style_backend.config import EnvVar
from style_backend.domain.errors import Failure, Reason
from style_backend.storage.processes import ProcessStore
from tests.album_resources import ENV as ALBUM_ENV
from tests.album_resources import TABLE as ALBUM_TABLE
from tests.album_resources import create_album_resources
from tests.tables import create_tables
from tests.tokens import CLIENT_ID, POOL_ID, CognitoPool, stranger_key

ALICE, BOB = "1f0c6a6e-0000-4000-8000-00000000a11c", "2e1d7b7f-0000-4000-8000-000000000b0b"
CONNECTIONS = "Live-Connections"
ENDPOINT = "wss://abc123.execute-api.us-west-2.amazonaws.com/prod"
POOL = CognitoPool()


def _stream(client: Any, table: str) -> str:
    client.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )
    return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]


class Streams:
    jwks_fetches: list[str]

    """Each table's stream read from where the test started, as Lambda's poller reads it."""

    def __init__(self, arns: dict[str, str]):
        self.client = boto3.client("dynamodbstreams")
        self.iterators = {}
        for name, arn in arns.items():
            shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            self.iterators[name] = (
                arn,
                self.client.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                )["ShardIterator"],
            )

    def deliver(self, name: str, pattern: dict[str, Any]) -> dict[str, Any]:
        """Everything written since the last delivery that the pattern keeps → the publisher."""
        arn, iterator = self.iterators[name]
        answer = self.client.get_records(ShardIterator=iterator)
        self.iterators[name] = (arn, answer["NextShardIterator"])
        records = [
            lambda_record(r, arn, "us-west-2")
            for r in answer["Records"]
            if record_matches([pattern], r)
        ]
        return publisher.handler({"Records": records}) if records else {"messages": 0}


@pytest.fixture
def env(monkeypatch):
    for name, value in ALBUM_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(live.LiveEnv.CONNECTIONS_TABLE, CONNECTIONS)
    monkeypatch.setenv(live.LiveEnv.WEBSOCKET_ENDPOINT, ENDPOINT)
    monkeypatch.setenv(live.LiveEnv.USER_POOL_ID, POOL_ID)
    monkeypatch.setenv(live.LiveEnv.USER_POOL_CLIENT_ID, CLIENT_ID)
    monkeypatch.setenv(EnvVar.BUCKET_NAME.value, "live-results")
    # Cognito's JWKS endpoint (its https URL is not a boto3 call moto intercepts).
    fetched = []
    monkeypatch.setattr(tokens, "_fetch_jwks", lambda pool: fetched.append(pool) or POOL.jwks)
    monkeypatch.setattr(tokens, "_KEYS", {})
    with mock_aws():
        ddb = boto3.client("dynamodb")
        create_album_resources(boto3.client("s3"), ddb)
        names = create_tables(ddb, prefix="Live")
        monkeypatch.setenv(EnvVar.PROCESS_TABLE.value, names[EnvVar.PROCESS_TABLE.value])
        ddb.create_table(
            TableName=CONNECTIONS,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "connectionId", "AttributeType": "S"},
                {"AttributeName": "userId", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": live.BY_USER,
                    "KeySchema": [{"AttributeName": "userId", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        streams = Streams(
            {
                "albums": _stream(ddb, ALBUM_TABLE),
                "processes": _stream(ddb, names[EnvVar.PROCESS_TABLE.value]),
            }
        )
        streams.jwks_fetches = fetched
        yield streams


def connect(connection_id: str, token: str | None) -> int:
    event = {
        "queryStringParameters": {"token": token} if token is not None else None,
        "requestContext": {"routeKey": "$connect", "connectionId": connection_id},
    }
    return connections.connect(event)["statusCode"]


def received(connection_id: str) -> list[dict[str, Any]]:
    """What moto's management API got for a connection: the JSON messages, in order."""
    data = apigatewaymanagementapi_backends["123456789012"]["us-west-2"].connections
    key = quote(connection_id, safe="")  # moto keeps the id as the request path spelled it
    raw = data[key].data.decode() if key in data else ""
    decoder, out, at = json.JSONDecoder(), [], 0
    while at < len(raw):
        message, at = decoder.raw_decode(raw, at)
        out.append(message)
    return out


def connection_items() -> list[dict[str, Any]]:
    return boto3.resource("dynamodb").Table(CONNECTIONS).scan()["Items"]


def test_a_valid_id_token_connects_its_subject_until_the_ttl(env):
    assert connect("conn-1=", POOL.mint(ALICE)) == 200
    (item,) = connection_items()
    assert item["connectionId"] == "conn-1=" and item["userId"] == ALICE
    assert 0 < int(item["ttl"]) - time.time() - 2 * 3600 <= 600


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-jwt",
        POOL.mint(ALICE, signing_key=stranger_key()),  # forged: the pool's kid, another key
        POOL.mint(ALICE, expires_in=-5),  # expired
        POOL.mint(ALICE, token_use="access"),  # an access token is not an ID token
        POOL.mint(ALICE, client_id="another-app-client"),
        POOL.mint(ALICE, issuer="https://cognito-idp.us-west-2.amazonaws.com/us-west-2_Other"),
    ],
    ids=["none", "empty", "garbage", "forged", "expired", "access", "other-client", "issuer"],
)
def test_any_other_token_is_refused_at_connect_and_nothing_is_recorded(env, token):
    assert connect("conn-x=", token) == 401
    assert connection_items() == []


def test_the_pools_keys_are_read_once_and_again_for_an_unknown_kid_not_too_often(env, monkeypatch):
    assert connect("c1=", POOL.mint(ALICE)) == 200
    assert connect("c2=", POOL.mint(BOB)) == 200
    assert env.jwks_fetches == [POOL_ID]
    unknown = POOL.mint(ALICE, signing_key=stranger_key("rotated-key"))
    assert connect("c3=", unknown) == 401
    assert connect("c4=", unknown) == 401
    assert env.jwks_fetches == [POOL_ID]  # read less than REFETCH_AFTER_S ago: not again
    monkeypatch.setattr(tokens, "REFETCH_AFTER_S", -1)
    assert connect("c5=", unknown) == 401
    assert env.jwks_fetches == [POOL_ID, POOL_ID]


def test_disconnect_forgets_the_connection(env):
    connect("conn-1=", POOL.mint(ALICE))
    connections.disconnect(
        {"requestContext": {"routeKey": "$disconnect", "connectionId": "conn-1="}}
    )
    assert connection_items() == []


def test_an_album_job_pushes_the_album_status_in_order_ending_idle(env):
    connect("alice-1=", POOL.mint(ALICE))
    connect("alice-2=", POOL.mint(ALICE))
    connect("bob-1=", POOL.mint(BOB))
    album = albums.create_album(ALICE, "Trip")
    jobs.put_job(ALICE, album.album_id, "job-1", ["p1", "p2"])
    env.deliver("albums", ALBUM_FILTER)
    jobs.advance(album.album_id, "job-1", "DetectAlign")
    env.deliver("albums", ALBUM_FILTER)
    jobs.finish(album.album_id, "job-1", "SUCCEEDED")
    env.deliver("albums", ALBUM_FILTER)
    messages = received("alice-1=")
    assert [m["status"] for m in messages] == ["PROCESSING", "PROCESSING", "IDLE"]
    assert messages[-1] == {
        "type": "album.status",
        "albumId": album.album_id,
        "status": "IDLE",
        "photos": {"total": 0, "processed": 0, "duplicates": 0, "failed": 0, "pending": 0},
        "faces": 0,
        "clusters": 0,
    }
    assert received("alice-2=") == messages  # every connection of the owner
    assert received("bob-1=") == []  # nobody else's


def test_records_of_one_batch_about_one_album_are_one_message(env):
    connect("alice-1=", POOL.mint(ALICE))
    album = albums.create_album(ALICE, "Trip")
    jobs.put_job(ALICE, album.album_id, "job-1", ["p1"])
    jobs.advance(album.album_id, "job-1", "ExtractEXIF")
    jobs.finish(album.album_id, "job-1", "SUCCEEDED")
    assert env.deliver("albums", ALBUM_FILTER)["messages"] == 1
    assert [m["status"] for m in received("alice-1=")] == ["IDLE"]


def test_photo_and_album_items_do_not_reach_the_publisher(env):
    connect("alice-1=", POOL.mint(ALICE))
    album = albums.create_album(ALICE, "Trip")  # the album item (USER#…/ALBUM#…)
    album_table.table().put_item(  # a photo of it
        Item={**keys.photo_key(album.album_id, "p1"), "userId": ALICE, "status": "PROCESSING"}
    )
    assert env.deliver("albums", ALBUM_FILTER) == {"messages": 0}


def test_a_share_pushes_its_status(env):
    connect("alice-1=", POOL.mint(ALICE))
    album = albums.create_album(ALICE, "Trip")
    item = {"shareId": "s1", "albumId": album.album_id, "userId": ALICE}
    share_key = keys.share_key(album.album_id, "s1")
    album_table.table().put_item(Item={**share_key, **item, "status": "BUILDING"})
    env.deliver("albums", ALBUM_FILTER)
    album_table.table().update_item(
        Key=share_key,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "READY"},
    )
    env.deliver("albums", ALBUM_FILTER)
    assert received("alice-1=") == [
        {"type": "share.status", "shareId": "s1", "albumId": album.album_id, "status": s}
        for s in ("BUILDING", "READY")
    ]


def test_a_styling_process_pushes_each_status_in_order(env):
    connect("alice-1=", POOL.mint(ALICE))
    store = ProcessStore()
    process = store.create(ALICE, ["style-a"], lambda pid: f"uploads/{ALICE}/{pid}.jpg", 1)
    pid = process["processId"]
    env.deliver("processes", PROCESS_FILTER)
    store.mark_cropped(pid, f"crops/{ALICE}/{pid}.jpg")
    env.deliver("processes", PROCESS_FILTER)
    store.mark_failed(pid, Failure(Reason.NO_FACE, "No face was found in the photo."))
    env.deliver("processes", PROCESS_FILTER)
    messages = received("alice-1=")
    assert [m["status"] for m in messages] == ["CREATED", "CROPPED", "FAILED"]
    assert messages[0] == {
        "type": "process.status",
        "processId": pid,
        "status": "CREATED",
        "styles": {"style-a": {"status": "PENDING"}},
    }
    assert messages[-1]["error"]["code"] == "NO_FACE"


def test_erasure_markers_push_nothing(env):
    connect("alice-1=", POOL.mint(ALICE))
    ProcessStore().mark_user_erased(ALICE)  # an item with no owner
    assert env.deliver("processes", PROCESS_FILTER) == {"messages": 0}
    assert received("alice-1=") == []


def test_a_gone_connection_is_forgotten_and_the_others_still_get_the_message(env):
    connect("alice-gone=", POOL.mint(ALICE))
    connect("alice-live=", POOL.mint(ALICE))
    management = aws.client_at(
        "apigatewaymanagementapi", "https://abc123.execute-api.us-west-2.amazonaws.com/prod"
    )
    order = [c["connectionId"] for c in connection_items()]
    with Stubber(management) as stub:
        for connection_id in order:
            if connection_id == "alice-gone=":
                stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
            else:
                stub.add_response("post_to_connection", {})
        # Past the handshake's grace: the gone one is forgotten.
        later = time.time() + live.HANDSHAKE_GRACE_S
        sent = live.push(ALICE, {"type": "album.status", "albumId": "a"}, now=later)
    assert sent == 1
    assert [c["connectionId"] for c in connection_items()] == ["alice-live="]


def test_a_connection_still_in_its_handshake_is_not_forgotten_for_a_410(env):
    connect("alice-new=", POOL.mint(ALICE))
    management = aws.client_at(
        "apigatewaymanagementapi", "https://abc123.execute-api.us-west-2.amazonaws.com/prod"
    )
    with Stubber(management) as stub:
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        assert live.push(ALICE, {"type": "album.status", "albumId": "a"}) == 0
    assert [c["connectionId"] for c in connection_items()] == ["alice-new="]


def test_another_error_of_the_management_api_raises_so_the_stream_retries(env):
    connect("alice-1=", POOL.mint(ALICE))
    management = aws.client_at(
        "apigatewaymanagementapi", "https://abc123.execute-api.us-west-2.amazonaws.com/prod"
    )
    with Stubber(management) as stub:
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        with pytest.raises(Exception, match="LimitExceeded"):
            live.push(ALICE, {"type": "album.status"})
    assert len(connection_items()) == 1


def test_the_management_endpoint_is_the_api_endpoint_over_https():
    assert (
        live.management_endpoint(ENDPOINT)
        == "https://abc123.execute-api.us-west-2.amazonaws.com/prod"
    )
    assert live.management_endpoint("ws://127.0.0.1:9/prod") == "http://127.0.0.1:9/prod"
