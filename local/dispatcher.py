"""Drain SQS queues into their functions, at least once: one poller for every queue the runtime
feeds a function from.

Two kinds of queue, one poller. A trigger queue stands for an S3 notification or an SNS
subscription (local/provision.py), as Lambda's async invocation does: one event per invocation;
a message is deleted only after the handler returned; when it raised, the message becomes visible
again after a back-off, and once it has been received more than the function's retry budget
(EventInvokeConfig's MaximumRetryAttempts, Lambda's default 2) it moves to the trigger's DLQ.
A template's SQS event source mapping (local/pipelines.py) gets batches of up to its BatchSize,
deleted when the handler returned and visible again `RETRY_VISIBILITY_S` later when it raised: the
queue's own redrive policy (in moto) then moves a message that kept failing to its DLQ. Both get
the SQS event Lambda's poller sends, whose `eventSourceARN` is the queue's ARN.

A poller never dies of a failed SQS call: a message whose delete or back-off did not land comes
back after its visibility timeout, and is delivered again (at least once). `duplicate_deliveries`
(fault injection, the end-to-end tests) delivers every event twice, as S3, SNS and SQS may.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from local.functions import InvocationError
from local.topology import FunctionRef

log = logging.getLogger("local.dispatcher")
# Marks the second copy of a message that `duplicate_deliveries` sent, so it is not copied again.
DUPLICATE_ATTRIBUTE = "local-duplicate"
RETRY_VISIBILITY_S = 2  # a failed batch is visible again this soon (Lambda backs off similarly)
MAX_BATCH = 10  # ReceiveMessage's limit
Message = dict[str, Any]


@dataclass(frozen=True)
class Trigger:
    """A queue drained into one function: the local stand-in for an S3 notification or an SNS
    subscription (with a dead-letter queue of its own), or an SQS event source mapping."""

    kind: str  # "s3" | "sns" | "sqs" (an event source mapping, or a consumer of dead letters)
    function: FunctionRef
    queue_url: str
    queue_arn: str  # what the SQS event names as eventSourceARN
    dlq_url: str = ""  # past the function's retry budget; "" where the queue's redrive policy acts
    subscription_arn: str = ""  # sns: the subscription, as Lambda's SNS event carries it
    batch_size: int = 1  # messages per invocation: an event source mapping's BatchSize
    # ReportBatchItemFailures: only the messages the answer's `batchItemFailures` names are
    # retried; without it, a batch succeeds or fails whole.
    reports_item_failures: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"{self.function}: batch size {self.batch_size} (1 to {MAX_BATCH})")
        if self.dlq_url and self.batch_size != 1:
            # The DLQ keeps the event a message failed with: one event, one message.
            raise ValueError(f"{self.function}: a trigger with a DLQ takes one message at a time")
        if self.kind != "sqs" and not self.dlq_url:
            raise ValueError(f"{self.function}: an {self.kind} trigger needs its DLQ")


def sns_lambda_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The event Lambda receives from an SNS subscription, built from SNS's SQS envelope."""
    fields = (
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    )
    sns = {k: envelope.get(k) for k in fields}
    sns["SigningCertUrl"] = sns.pop("SigningCertURL")  # Lambda's spelling differs from SQS's
    sns["UnsubscribeUrl"] = sns.pop("UnsubscribeURL")
    sns["MessageAttributes"] = envelope.get("MessageAttributes", {})
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }


def sqs_lambda_event(messages: list[Message], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping delivers for a batch of messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_items(answer: Any, messages: list[Message]) -> set[str]:
    """The ids of `messages` a ReportBatchItemFailures answer says failed. An answer without
    failures is a success; one Lambda cannot read (an entry without an id of the batch) fails the
    whole batch, as on AWS."""
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if not failures:
        return set()
    ids = {m["MessageId"] for m in messages}
    named = {item.get("itemIdentifier") for item in failures if isinstance(item, dict)}
    if len(named) != len(failures) or not named <= ids:
        return ids
    return named


def lambda_event(trigger: Trigger, body: str) -> dict[str, Any] | None:
    """The handler's event for one queue message; None for messages that carry no event."""
    payload = json.loads(body)
    if trigger.kind == "s3":
        # S3 sends a test message when the notification configuration is set.
        return as_s3_encoded(payload) if "Records" in payload else None
    return sns_lambda_event(payload, trigger.subscription_arn)


def as_s3_encoded(event: dict[str, Any]) -> dict[str, Any]:
    """Keys encoded as S3 does (form encoding, '/' kept); moto also encodes '/' as %2F."""
    for record in event["Records"]:
        obj = record["s3"]["object"]
        obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
    return event


class Dispatcher:
    """`pollers_per_trigger` threads per trigger, each receiving and delivering in turn."""

    def __init__(
        self,
        sqs: Any,
        triggers: list[Trigger],
        invoke: Callable[[FunctionRef, dict[str, Any]], Any],
        retries: dict[FunctionRef, int] | None = None,
        pollers_per_trigger: int = 2,
    ):
        self.sqs = sqs
        self.triggers = triggers
        self.invoke = invoke
        self.retries = retries or {}  # the retry budget of triggers with a DLQ, by function
        self.pollers = pollers_per_trigger
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.dead_letters = 0
        self.duplicate_deliveries = False  # fault injection: every event is delivered twice
        self.duplicated = 0
        self.unsettled = 0  # deliveries whose SQS bookkeeping failed (they come back later)

    def start(self) -> None:
        for trigger in self.triggers:
            for i in range(self.pollers):
                t = threading.Thread(
                    target=self._poll,
                    args=(trigger,),
                    name=f"dispatch-{trigger.kind}-{trigger.function.logical_id}-{i}",
                    daemon=True,
                )
                t.start()
                self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def alive(self) -> int:
        """Pollers still running (all of them, unless the dispatcher stopped)."""
        return sum(t.is_alive() for t in self._threads)

    def _poll(self, trigger: Trigger) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive(trigger)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("receiving from %s failed", trigger.queue_url)
                self._stop.wait(1)
                continue
            if not messages:
                continue
            try:
                self._deliver(trigger, messages)
            except Exception:
                if self._stop.is_set():
                    return
                self.unsettled += 1
                log.exception(
                    "%s: delivery not settled; the messages come back after their visibility "
                    "timeout",
                    trigger.function,
                )

    def _receive(self, trigger: Trigger) -> list[Message]:
        return self.sqs.receive_message(
            QueueUrl=trigger.queue_url,
            MaxNumberOfMessages=trigger.batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],  # ApproximateReceiveCount counts against the retry budget
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _deliver(self, trigger: Trigger, messages: list[Message]) -> None:
        if self.duplicate_deliveries:
            self._send_copies(trigger, messages)
        try:
            event = self._event(trigger, messages)
        except (ValueError, KeyError, TypeError) as err:  # not an event: retrying cannot help
            log.error("%s: unreadable message (%s)", trigger.function, err)
            for message in messages:
                self._dead_letter(trigger, message["Body"], message["ReceiptHandle"])
            return
        if event is None:
            self._delete(trigger, messages)
            return
        try:
            answer = self.invoke(trigger.function, event)
        except InvocationError as err:
            if trigger.dlq_url:
                self._retry_or_dead_letter(trigger, messages[0], event, err)
            else:
                self._retry_batch(trigger, messages, err)
            return
        failed = failed_items(answer, messages) if trigger.reports_item_failures else set()
        retried = [m for m in messages if m["MessageId"] in failed]
        if retried:
            self._retry_batch(trigger, retried, f"{len(retried)} item(s) reported failed")
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._delete(trigger, done)

    def _event(self, trigger: Trigger, messages: list[Message]) -> dict[str, Any] | None:
        if trigger.kind == "sqs":
            return sqs_lambda_event(messages, trigger.queue_arn, self.sqs.meta.region_name)
        (message,) = messages
        return lambda_event(trigger, message["Body"])

    def _send_copies(self, trigger: Trigger, messages: list[Message]) -> None:
        """The copies go back to the queue: another poller may deliver them at the same time."""
        for message in messages:
            if DUPLICATE_ATTRIBUTE in message.get("MessageAttributes", {}):
                continue
            self.sqs.send_message(
                QueueUrl=trigger.queue_url,
                MessageBody=message["Body"],
                MessageAttributes={DUPLICATE_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}},
            )
            self.duplicated += 1

    def _retry_or_dead_letter(
        self, trigger: Trigger, message: Message, event: dict[str, Any], err: InvocationError
    ) -> None:
        received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        budget = self.retries.get(trigger.function, 2)
        log.warning(
            "%s failed (attempt %d of %d): %s\n%s",
            trigger.function,
            received,
            budget + 1,
            err,
            err.trace,
        )
        if received > budget:
            # The DLQ keeps the event as the function received it.
            self._dead_letter(trigger, json.dumps(event), message["ReceiptHandle"])
        else:
            # Retry after a back-off that grows with each attempt, as Lambda's does.
            self.sqs.change_message_visibility(
                QueueUrl=trigger.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=received,
            )

    def _retry_batch(self, trigger: Trigger, messages: list[Message], err: Exception | str) -> None:
        """The queue's redrive policy counts the receives and moves what kept failing."""
        log.warning("%s failed on a batch of %d: %s", trigger.function, len(messages), err)
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=trigger.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=RETRY_VISIBILITY_S,
            )

    def _delete(self, trigger: Trigger, messages: list[Message]) -> None:
        answer = self.sqs.delete_message_batch(
            QueueUrl=trigger.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        if answer.get("Failed"):  # a message gone meanwhile, or a receipt handle expired
            raise RuntimeError(f"{trigger.queue_url}: not deleted: {answer['Failed']}")

    def _dead_letter(self, trigger: Trigger, body: str, receipt: str) -> None:
        self.sqs.send_message(QueueUrl=trigger.dlq_url, MessageBody=body)
        self.sqs.delete_message(QueueUrl=trigger.queue_url, ReceiptHandle=receipt)
        self.dead_letters += 1
        log.error("%s: event moved to %s", trigger.function, trigger.dlq_url)
