import json

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from common import aws
from style_backend.edge import events
from style_backend.storage import keys


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "InvokeEndpointAsync",
    )


def test_s3_keys_are_url_decoded_and_bad_records_skipped():
    event = {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/u/a+b%3D.jpg", "size": 3}}},
            {"eventSource": "aws:sqs"},
            "junk",
        ]
    }
    assert list(events.s3_objects(event)) == [events.S3Object("b", "uploads/u/a b=.jpg", 3)]
    assert list(events.s3_objects({})) == []


@pytest.mark.parametrize("uri", ["", "s3://", "s3://bucket", "s3://bucket/", "https://x/y", None])
def test_bad_s3_uris_are_refused(uri):
    with pytest.raises(ValueError):
        keys.parse_s3_uri(uri)


def _message(**overrides):
    body = {
        "invocationStatus": "Completed",
        "inferenceId": keys.inference_id("p-1", "r.1"),
        "requestParameters": {"inputLocation": "s3://b/inference/in/p-1/r.1.json"},
        "responseParameters": {"outputLocation": "s3://b/inference/out/x.out"},
    }
    return json.dumps(body | overrides)


def test_notification_names_its_process_and_style():
    note = events.parse_inference_notification(_message())
    assert (note.process_id, note.resource_id, note.succeeded) == ("p-1", "r.1", True)
    assert note.output_location == "s3://b/inference/out/x.out"


@pytest.mark.parametrize(
    "message",
    [
        "{",
        "null",
        _message(invocationStatus="InProgress"),
        _message(inferenceId="something-else"),
        _message(requestParameters={"inputLocation": "s3://b/crops/u/p.png"}),
        _message(requestParameters={}),
    ],
)
def test_malformed_notifications_are_refused(message):
    with pytest.raises(events.MalformedNotification):
        events.parse_inference_notification(message)


def test_transient_errors_are_retried_with_growing_jittered_delays():
    outcomes = [client_error("ThrottlingException", 400), client_error("InternalFailure", 500)]
    outcomes += [ConnectTimeoutError(endpoint_url="x"), "ok"]
    delays = []

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert aws.retry_transient(call, base_delay=1.0, max_delay=3.0, sleep=delays.append) == "ok"
    assert len(delays) == 3
    assert all(0 <= d <= cap for d, cap in zip(delays, [1.0, 2.0, 3.0], strict=True))


def test_permanent_errors_are_not_retried_and_transient_ones_give_up():
    calls = []

    def refuse():
        calls.append(1)
        raise client_error("ValidationError", 400)

    with pytest.raises(ClientError):
        aws.retry_transient(refuse, sleep=lambda _: None)
    assert len(calls) == 1

    def throttle():
        calls.append(1)
        raise client_error("ThrottlingException", 400)

    with pytest.raises(ClientError):
        aws.retry_transient(throttle, attempts=3, sleep=lambda _: None)
    assert len(calls) == 4


class _EmptyBody:
    def stream(self, **_):
        yield b""


def test_sagemaker_runtime_retries_are_ours_alone():
    """botocore sends each SageMaker call once; retry_transient decides how often to try. (A 503
    answered at the HTTP layer: botocore's own retry handler would resend it if it could.)"""
    from botocore.awsrequest import AWSResponse

    runtime = aws.client("sagemaker-runtime")
    sends = []

    def answer_503(request, **_):
        sends.append(request.url)
        return AWSResponse(request.url, 503, {}, _EmptyBody())

    # First: a moto mock active elsewhere in the session would otherwise answer before us.
    runtime.meta.events.register_first("before-send", answer_503)
    with pytest.raises(ClientError) as caught:
        aws.retry_transient(
            lambda: runtime.invoke_endpoint_async(EndpointName="e", InputLocation="s3://b/k"),
            attempts=3,
            sleep=lambda _: None,
        )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert len(sends) == 3
