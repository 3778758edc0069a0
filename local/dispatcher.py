"""Drain the local trigger queues into their functions, at least once, as Lambda's async
invocation does.

A message is deleted only after the handler returned. When it raised, the message becomes visible
again after a short back-off; once it has been received more than the function's retry budget
(EventInvokeConfig's MaximumRetryAttempts, Lambda's default 2) it moves to the trigger's DLQ.

A poller never dies of a failed SQS call: a message whose delete or back-off did not land comes
back after its visibility timeout, and is delivered again (at least once). `duplicate_deliveries`
(fault injection, the end-to-end tests) delivers every event twice, as S3, SNS and SQS may.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from local.functions import InvocationError
from local.provision import Trigger
from local.topology import FunctionRef

log = logging.getLogger("local.dispatcher")
# Marks the second copy of a message that `duplicate_deliveries` sent, so it is not copied again.
DUPLICATE_ATTRIBUTE = "local-duplicate"


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


def sqs_lambda_event(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """The event an SQS event source mapping delivers, for one message."""
    return {
        "Records": [
            {
                "messageId": message.get("MessageId", ""),
                "receiptHandle": message.get("ReceiptHandle", ""),
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_url,
            }
        ]
    }


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
    def __init__(
        self,
        sqs: Any,
        triggers: list[Trigger],
        invoke: Callable[[FunctionRef, dict[str, Any]], Any],
        retries: dict[FunctionRef, int],
        pollers_per_trigger: int = 2,
    ):
        self.sqs = sqs
        self.triggers = triggers
        self.invoke = invoke
        self.retries = retries
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
                messages = self.sqs.receive_message(
                    QueueUrl=trigger.queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    AttributeNames=["ApproximateReceiveCount"],
                    MessageAttributeNames=[DUPLICATE_ATTRIBUTE],
                ).get("Messages", [])
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("receiving from %s failed", trigger.queue_url)
                self._stop.wait(1)
                continue
            for message in messages:
                try:
                    self._deliver(trigger, message)
                except Exception:
                    if self._stop.is_set():
                        return
                    self.unsettled += 1
                    log.exception(
                        "%s: delivery not settled; the message comes back after its visibility "
                        "timeout",
                        trigger.function,
                    )

    def _deliver(self, trigger: Trigger, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]
        if self.duplicate_deliveries and DUPLICATE_ATTRIBUTE not in message.get(
            "MessageAttributes", {}
        ):
            # The copy goes back to the queue: another poller may deliver it at the same time.
            self.sqs.send_message(
                QueueUrl=trigger.queue_url,
                MessageBody=message["Body"],
                MessageAttributes={DUPLICATE_ATTRIBUTE: {"DataType": "String", "StringValue": "1"}},
            )
            self.duplicated += 1
        try:
            if trigger.kind == "sqs":
                event = sqs_lambda_event(message, trigger.queue_url)
            else:
                event = lambda_event(trigger, message["Body"])
        except (ValueError, KeyError, TypeError) as err:  # not an event: retrying cannot help
            log.error("%s: unreadable message (%s)", trigger.function, err)
            self._dead_letter(trigger, message["Body"], receipt)
            return
        if event is None:
            self.sqs.delete_message(QueueUrl=trigger.queue_url, ReceiptHandle=receipt)
            return
        try:
            self.invoke(trigger.function, event)
        except InvocationError as err:
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
                self._dead_letter(trigger, json.dumps(event), receipt)
            else:
                # Retry after a back-off that grows with each attempt, as Lambda's does.
                self.sqs.change_message_visibility(
                    QueueUrl=trigger.queue_url, ReceiptHandle=receipt, VisibilityTimeout=received
                )
            return
        self.sqs.delete_message(QueueUrl=trigger.queue_url, ReceiptHandle=receipt)

    def _dead_letter(self, trigger: Trigger, body: str, receipt: str) -> None:
        self.sqs.send_message(QueueUrl=trigger.dlq_url, MessageBody=body)
        self.sqs.delete_message(QueueUrl=trigger.queue_url, ReceiptHandle=receipt)
        self.dead_letters += 1
        log.error("%s: event moved to %s", trigger.function, trigger.dlq_url)
