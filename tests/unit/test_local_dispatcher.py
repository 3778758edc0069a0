"""The local dispatcher's pollers, against moto's SQS in this process: a failed SQS call after a
delivery never ends a poller, and `duplicate_deliveries` delivers each event twice, once."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws

from local.dispatcher import Dispatcher
from local.provision import Trigger
from local.topology import FunctionRef

FUNCTION = FunctionRef("Stack", "Consumer")


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name="us-west-2")


def trigger(sqs) -> Trigger:
    url = sqs.create_queue(QueueName="dlq-sqs-producer")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="dlq-sqs-consumer")["QueueUrl"]
    return Trigger("sqs", FUNCTION, url, dlq)


def until(probe, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_poller_outlives_a_delivery_whose_delete_fails(sqs):
    """The first message vanishes while its handler runs (the queue is purged), so deleting it
    afterwards fails: the poller logs it and goes on to deliver the next message."""
    queue = trigger(sqs)
    delivered: list[str] = []

    def invoke(function, event) -> None:
        body = event["Records"][0]["body"]
        delivered.append(body)
        if body == "first":
            sqs.purge_queue(QueueUrl=queue.queue_url)
            sqs.send_message(QueueUrl=queue.queue_url, MessageBody="second")

    dispatcher = Dispatcher(sqs, [queue], invoke, {FUNCTION: 2}, pollers_per_trigger=1)
    sqs.send_message(QueueUrl=queue.queue_url, MessageBody="first")
    dispatcher.start()
    try:
        until(lambda: delivered == ["first", "second"])
        assert dispatcher.unsettled == 1
        assert dispatcher.alive() == 1
    finally:
        dispatcher.stop()


def test_duplicate_deliveries_deliver_every_message_twice_and_copies_once(sqs):
    queue = trigger(sqs)
    delivered: list[str] = []
    dispatcher = Dispatcher(
        sqs, [queue], lambda f, e: delivered.append(e["Records"][0]["body"]), {FUNCTION: 2}
    )
    dispatcher.duplicate_deliveries = True
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=queue.queue_url, MessageBody=body)
    dispatcher.start()
    try:
        until(lambda: len(delivered) == 4)
        time.sleep(1.5)  # a copy of a copy would have arrived by now
        assert sorted(delivered) == ["a", "a", "b", "b"]
        assert dispatcher.duplicated == 2
    finally:
        dispatcher.stop()
