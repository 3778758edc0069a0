"""The local runtime on a small app of the tests' own: resources, triggers, retries, the async
inference emulator and the HTTP port, all read from the synthesized templates."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.runtime import LocalBackend
from local.server import PortBusy
from tests.e2e.tiny_app import builder, write_code

pytestmark = pytest.mark.e2e


def wait_for(probe: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or probe}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> LocalBackend:
    code = write_code(tmp_path_factory.mktemp("tiny-code"))
    backend = LocalBackend(port=0, build_app=builder(code), seed_styles=False)
    backend.start()
    yield backend
    backend.stop()


def _item(backend: LocalBackend, pk: str) -> dict[str, Any] | None:
    table = backend.topology.tables()[0].name
    return backend.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item")


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_resources_come_from_the_templates(tiny):
    ddb = tiny.client("dynamodb")
    table = ddb.describe_table(TableName=tiny.topology.tables()[0].name)["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["bySource"]
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"
    bucket = tiny.topology.buckets()[0].name
    cors = tiny.client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors[0]["AllowedMethods"] == ["POST"]
    copy = tiny.hosts[tiny.function_by_handler("tiny_handlers.copy")].spec
    assert copy.environment["BUCKET_NAME"] == bucket
    assert copy.environment["TABLE_NAME"] == table["TableName"]  # via Fn::ImportValue
    assert copy.max_event_retries == 1  # from the EventInvokeConfig
    assert {(t.kind, t.function.logical_id[:4]) for t in tiny.triggers} == {
        ("s3", "Copy"),
        ("sns", "Reco"),
    }


def test_s3_event_reaches_its_function_and_sns_its_subscriber(tiny):
    bucket = tiny.topology.buckets()[0].name
    s3 = tiny.client("s3")
    s3.put_object(Bucket=bucket, Key="in/a photo+1.txt", Body=b"payload")
    s3.put_object(Bucket=bucket, Key="elsewhere/b.txt", Body=b"not under the filter")

    item = wait_for(lambda: _item(tiny, "in/a photo+1.txt"), what="the SNS subscriber's item")
    assert item["source"]["S"] == "aws:sns"
    copied = s3.get_object(Bucket=bucket, Key="out/a photo+1.txt")["Body"].read()
    assert copied == b"payload"
    time.sleep(1.5)
    assert _item(tiny, "elsewhere/b.txt") is None


def test_failing_event_is_retried_then_dead_lettered(tiny):
    bucket = tiny.topology.buckets()[0].name
    before = tiny.dispatcher.dead_letters
    tiny.client("s3").put_object(Bucket=bucket, Key="in/fail.txt", Body=b"x")
    wait_for(lambda: tiny.dispatcher.dead_letters > before, timeout=30, what="the DLQ")
    s3_trigger = next(t for t in tiny.triggers if t.kind == "s3")
    sqs = tiny.client("sqs")
    messages = sqs.receive_message(QueueUrl=s3_trigger.dlq_url, MaxNumberOfMessages=10)
    keys = [
        r["s3"]["object"]["key"]
        for m in messages.get("Messages", [])
        for r in json.loads(m["Body"])["Records"]
    ]
    assert "in/fail.txt" in keys  # as S3 encodes it: '/' kept
    attrs = sqs.get_queue_attributes(
        QueueUrl=s3_trigger.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"  # nothing left to loop on


def _sagemaker(tiny: LocalBackend):
    host, port = tiny.sagemaker_api.server_address[:2]
    return boto3.session.Session(region_name=tiny.region).client(
        "sagemaker-runtime", endpoint_url=f"http://{host}:{port}"
    )


def test_async_inference_failure_lands_in_s3_and_on_the_error_topic(tiny):
    """No model container in this app: the invocation fails as SageMaker reports it."""
    bucket = tiny.topology.buckets()[0].name
    tiny.client("s3").put_object(Bucket=bucket, Key="inference/in/p1/r1.json", Body=b"{}")
    answer = _sagemaker(tiny).invoke_endpoint_async(
        EndpointName="tiny-endpoint",
        InputLocation=f"s3://{bucket}/inference/in/p1/r1.json",
        ContentType="application/json",
        InferenceId="inf-1",
    )
    assert answer["InferenceId"] == "inf-1"
    assert answer["OutputLocation"] == f"s3://{bucket}/inference/out/inf-1.out"
    assert answer["FailureLocation"] == f"s3://{bucket}/inference/failed/inf-1-error.out"

    item = wait_for(lambda: _item(tiny, "inf-1"), what="the error notification")
    note = json.loads(item["message"]["S"])
    assert note["invocationStatus"] == "Failed"
    assert note["requestParameters"]["inputLocation"].endswith("inference/in/p1/r1.json")
    assert note["responseParameters"]["failureLocation"] == answer["FailureLocation"]
    assert note["failureReason"]
    tiny.client("s3").head_object(Bucket=bucket, Key="inference/failed/inf-1-error.out")


def test_unknown_endpoint_is_a_validation_error(tiny):
    with pytest.raises(ClientError) as err:
        _sagemaker(tiny).invoke_endpoint_async(
            EndpointName="nope", InputLocation="s3://b/k.json", ContentType="application/json"
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_config_json_names_what_a_client_needs(tiny):
    status, body = _get(f"{tiny.base_url}/config.json")
    assert status == 200
    config = json.loads(body)
    assert set(config) == {
        "apiUrl",
        "region",
        "userPoolId",
        "userPoolClientId",
        "cognitoEndpoint",
        "websocketUrl",
    }
    assert config["apiUrl"] == f"{tiny.base_url}/prod/"
    assert config["websocketUrl"] == ""  # the tiny app declares no WebSocket API
    pools = tiny.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"]
    assert config["userPoolId"] in [p["Id"] for p in pools]


def test_web_page_and_unknown_paths(tiny):
    status, body = _get(f"{tiny.base_url}/")
    assert status == 200 and b"<html" in body.lower()
    status, body = _get(f"{tiny.base_url}/../pyproject.toml")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "NOT_FOUND"


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_local_sign_up_and_sign_in_issue_pool_tokens(tiny):
    creds = {"email": "wiring@example.com", "password": "Passw0rd!Passw0rd"}
    status, tokens = _post(f"{tiny.base_url}/local/auth/signup", creds)
    assert status == 200, tokens
    status, again = _post(f"{tiny.base_url}/local/auth/signup", creds)
    assert status == 400 and again["error"]["code"] == "UsernameExistsException"
    status, tokens = _post(f"{tiny.base_url}/local/auth/signin", creds)
    assert status == 200 and tokens["idToken"].count(".") == 2
    status, bad = _post(f"{tiny.base_url}/local/auth/signin", {**creds, "password": "wrong"})
    assert status == 400 and bad["error"]["code"] == "NotAuthorizedException"


def test_api_route_needs_a_verified_token(tiny):
    pytest.importorskip("local.apigw")
    creds = {"email": "api@example.com", "password": "Passw0rd!Passw0rd"}
    _, tokens = _post(f"{tiny.base_url}/local/auth/signup", creds)
    status, _ = _get(f"{tiny.base_url}/prod/records/x")
    assert status == 401
    status, _ = _get(f"{tiny.base_url}/prod/records/x", {"Authorization": "not-a-jwt"})
    assert status == 401
    auth = {"Authorization": tokens["idToken"]}
    status, body = _get(f"{tiny.base_url}/prod/records/missing", auth)
    assert status == 404 and json.loads(body)["sub"]


def test_busy_port_fails_fast_with_a_readable_error(tiny, tmp_path: Path):
    other = LocalBackend(port=tiny.port, seed_styles=False)
    started = time.monotonic()
    with pytest.raises(PortBusy) as err:
        other.start()
    assert time.monotonic() - started < 2
    assert f"port {tiny.port}" in err.value.strerror and "PORT=" in err.value.strerror


def test_inference_emulator_answers_two_hundred_clients_at_once(tiny):
    """The sagemaker-runtime listener queues a burst instead of resetting it (an unknown endpoint:
    every call is answered, none runs an inference)."""
    import socket
    import threading
    from concurrent.futures import ThreadPoolExecutor

    host, port = tiny.sagemaker_api.server_address[:2]
    request = (
        b"POST /endpoints/nope/async-invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        b"X-Amzn-SageMaker-InputLocation: s3://b/k.json\r\nConnection: close\r\n\r\n"
    )
    start = threading.Barrier(200)

    def call(_: int) -> bytes:
        start.wait()
        with socket.create_connection((host, port), timeout=60) as sock:
            sock.sendall(request)
            return sock.recv(64)

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(call, range(200)))
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 400 Bad Request"] * 200
