"""The local dispatcher's pollers, against moto's SQS in this process: the one poller drains both
the trigger queues (one event at a time, a retry budget, a DLQ of their own) and the templates'
event source mappings (batches, the queue's redrive policy); the SQS event names the queue by its
ARN; a failed SQS call after a delivery never ends a poller, and `duplicate_deliveries` delivers
each event twice, once."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from local.dispatcher import Dispatcher, Trigger, sqs_lambda_event
from local.functions import InvocationError
from local.pipelines import mapping_triggers
from local.topology import EventSourceMappingSpec, FunctionRef

FUNCTION = FunctionRef("Stack", "Consumer")
REGION = "us-west-2"


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def queue(sqs, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def trigger(sqs) -> Trigger:
    """A consumer of another function's dead letters: an SQS trigger with a DLQ of its own."""
    url, arn = queue(sqs, "dlq-sqs-producer")
    dlq, _ = queue(sqs, "dlq-sqs-consumer")
    return Trigger("sqs", FUNCTION, url, arn, dlq)


def until(probe, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def failing(calls: list[dict]):
    def invoke(function, event) -> None:
        calls.append(event)
        raise InvocationError(str(function), "Error", "always fails")

    return invoke


def test_the_sqs_event_names_its_queue_by_arn_and_carries_each_message():
    messages = [
        {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "a", "MD5OfBody": "x"},
        {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "b", "Attributes": {"K": "v"}},
    ]
    arn = "arn:aws:sqs:eu-west-1:123456789012:work"
    records = sqs_lambda_event(messages, arn, "eu-west-1")["Records"]
    assert [r["body"] for r in records] == ["a", "b"]
    assert {r["eventSourceARN"] for r in records} == {arn}
    assert {(r["eventSource"], r["awsRegion"]) for r in records} == {("aws:sqs", "eu-west-1")}
    assert (records[0]["md5OfBody"], records[1]["attributes"]) == ("x", {"K": "v"})


def test_a_dead_letter_consumer_gets_the_queue_arn_and_its_message(sqs):
    consumer = trigger(sqs)
    events: list[dict] = []
    dispatcher = Dispatcher(sqs, [consumer], lambda f, e: events.append(e), {FUNCTION: 2})
    sqs.send_message(QueueUrl=consumer.queue_url, MessageBody='{"Records": []}')
    dispatcher.start()
    try:
        until(lambda: events and depth(sqs, consumer.queue_url) == 0)
    finally:
        dispatcher.stop()
    (record,) = events[0]["Records"]
    assert record["eventSourceARN"] == f"arn:aws:sqs:{REGION}:123456789012:dlq-sqs-producer"
    assert record["eventSourceARN"] != consumer.queue_url
    assert record["body"] == '{"Records": []}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_an_event_source_mapping_gets_batches_named_by_the_queue_arn_and_deleted(sqs):
    url, arn = queue(sqs, "work")
    mapping = EventSourceMappingSpec("work", arn, FUNCTION, batch_size=25)
    (work,) = mapping_triggers(sqs, [mapping])
    assert (work.queue_url, work.queue_arn, work.batch_size, work.dlq_url) == (url, arn, 10, "")
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    events: list[dict] = []
    dispatcher = Dispatcher(sqs, [work], lambda f, e: events.append(e), pollers_per_trigger=1)
    dispatcher.start()
    try:
        until(lambda: sum(len(e["Records"]) for e in events) == 3 and depth(sqs, url) == 0)
    finally:
        dispatcher.stop()
    records = [r for e in events for r in e["Records"]]
    assert sorted(r["body"] for r in records) == ["a", "b", "c"]
    assert {r["eventSourceARN"] for r in records} == {f"arn:aws:sqs:{REGION}:123456789012:work"}


def test_a_failing_trigger_event_is_retried_then_moved_to_its_dlq_as_the_event(sqs):
    consumer = trigger(sqs)
    calls: list[dict] = []
    dispatcher = Dispatcher(sqs, [consumer], failing(calls), {FUNCTION: 1}, pollers_per_trigger=1)
    sqs.send_message(QueueUrl=consumer.queue_url, MessageBody="dead letter")
    dispatcher.start()
    try:
        until(lambda: dispatcher.dead_letters == 1)
    finally:
        dispatcher.stop()
    assert len(calls) == 2  # the first try and one retry: the budget of 1
    assert depth(sqs, consumer.queue_url) == 0
    (moved,) = sqs.receive_message(QueueUrl=consumer.dlq_url)["Messages"]
    assert json.loads(moved["Body"]) == calls[-1]  # the event as the function received it


def test_a_failing_mapping_batch_is_left_to_the_queue_redrive_policy(sqs):
    dead_url, dead_arn = queue(sqs, "work-dead")
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
    url, arn = queue(sqs, "work", RedrivePolicy=redrive)
    (work,) = mapping_triggers(sqs, [EventSourceMappingSpec("work", arn, FUNCTION, 10)])
    calls: list[dict] = []
    dispatcher = Dispatcher(sqs, [work], failing(calls), pollers_per_trigger=1)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    dispatcher.start()
    try:
        until(lambda: depth(sqs, dead_url) == 1, timeout=15)
    finally:
        dispatcher.stop()
    assert len(calls) == 2  # moto's redrive moved it on the third receive
    assert dispatcher.dead_letters == 0  # not the dispatcher's doing
    assert depth(sqs, url) == 0


def test_a_mapping_reporting_item_failures_retries_only_the_messages_it_names(sqs):
    """ReportBatchItemFailures (the pipeline's dead-letter consumer): the answer's
    batchItemFailures come back; the rest of the batch is deleted. Without the response type the
    same answer is a success of the whole batch."""
    url, arn = queue(sqs, "work")
    spec = EventSourceMappingSpec("work", arn, FUNCTION, 10, reports_item_failures=True)
    (work,) = mapping_triggers(sqs, [spec])
    for body in ("keep", "fail"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []

    def invoke(function, event) -> dict:
        seen.extend(r["body"] for r in event["Records"])
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "fail"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    dispatcher = Dispatcher(sqs, [work], invoke, pollers_per_trigger=1)
    dispatcher.start()
    try:
        until(lambda: seen.count("fail") >= 2, timeout=15)
    finally:
        dispatcher.stop()
    assert seen.count("keep") == 1  # deleted after its first, successful delivery
    assert depth(sqs, url) == 1  # "fail" stays for its next try


def test_an_unreadable_batch_item_failure_answer_fails_the_whole_batch():
    from local.dispatcher import failed_items

    batch = [{"MessageId": "a"}, {"MessageId": "b"}]
    assert failed_items({"batchItemFailures": []}, batch) == set()
    assert failed_items(None, batch) == set()
    assert failed_items({"batchItemFailures": [{"itemIdentifier": "b"}]}, batch) == {"b"}
    assert failed_items({"batchItemFailures": [{"itemIdentifier": "z"}]}, batch) == {"a", "b"}
    assert failed_items({"batchItemFailures": [{}]}, batch) == {"a", "b"}


def test_an_unreadable_trigger_message_goes_to_the_dlq_untouched(sqs):
    url, arn = queue(sqs, "s3-consumer")
    dlq, _ = queue(sqs, "dlq-s3-consumer")
    s3 = Trigger("s3", FUNCTION, url, arn, dlq)
    calls: list[dict] = []
    dispatcher = Dispatcher(sqs, [s3], lambda f, e: calls.append(e), {FUNCTION: 2})
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    dispatcher.start()
    try:
        until(lambda: dispatcher.dead_letters == 1)
    finally:
        dispatcher.stop()
    assert calls == []
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "not json"


def test_a_trigger_with_a_dlq_takes_one_message_at_a_time():
    with pytest.raises(ValueError, match="one message at a time"):
        Trigger("sqs", FUNCTION, "url", "arn", "dlq", batch_size=2)
    with pytest.raises(ValueError, match="needs its DLQ"):
        Trigger("s3", FUNCTION, "url", "arn")
    with pytest.raises(ValueError, match="batch size 11"):
        Trigger("sqs", FUNCTION, "url", "arn", batch_size=11)


def test_a_poller_outlives_a_delivery_whose_delete_fails(sqs):
    """The first message vanishes while its handler runs (the queue is purged), so deleting it
    afterwards fails: the poller logs it and goes on to deliver the next message."""
    consumer = trigger(sqs)
    delivered: list[str] = []

    def invoke(function, event) -> None:
        body = event["Records"][0]["body"]
        delivered.append(body)
        if body == "first":
            sqs.purge_queue(QueueUrl=consumer.queue_url)
            sqs.send_message(QueueUrl=consumer.queue_url, MessageBody="second")

    dispatcher = Dispatcher(sqs, [consumer], invoke, {FUNCTION: 2}, pollers_per_trigger=1)
    sqs.send_message(QueueUrl=consumer.queue_url, MessageBody="first")
    dispatcher.start()
    try:
        until(lambda: delivered == ["first", "second"])
        assert dispatcher.unsettled == 1
        assert dispatcher.alive() == 1
    finally:
        dispatcher.stop()


def test_duplicate_deliveries_deliver_every_message_twice_and_copies_once(sqs):
    consumer = trigger(sqs)
    delivered: list[str] = []
    dispatcher = Dispatcher(
        sqs, [consumer], lambda f, e: delivered.append(e["Records"][0]["body"]), {FUNCTION: 2}
    )
    dispatcher.duplicate_deliveries = True
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=body)
    dispatcher.start()
    try:
        until(lambda: len(delivered) == 4)
        time.sleep(1.5)  # a copy of a copy would have arrived by now
        assert sorted(delivered) == ["a", "a", "b", "b"]
        assert dispatcher.duplicated == 2
    finally:
        dispatcher.stop()
