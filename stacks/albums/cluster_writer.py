"""The album's one clustering writer: a FIFO queue (+ FIFO DLQ) whose message group is the
album, drained by the cluster writer function (faceflow.edge.clusterer), which answers each
job's task token. The state machine's Cluster state sends to it and waits
(`sqs:sendMessage.waitForTaskToken`): an album's faces are placed by one invocation at a time,
and a batch coalesces the jobs waiting. Alarms on the DLQ's depth and the oldest message."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from faceflow.config import AlbumEnv
from stacks.settings import Settings
from stacks.shared import Component, DeadLetterQueue, ProjectFunction, StackKey
from stacks.shared.alarms import operator_alarms

WRITER_TIMEOUT_SECONDS = 300
BATCH_SIZE = 10  # SQS FIFO's largest batch: up to 10 jobs of an album placed at once


class ClusterWriter(Component):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        make_function: Callable[..., ProjectFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = DeadLetterQueue(
            self,
            "AlbumClusterDeadLetterQueue",
            settings=settings,
            fifo=True,
            of="the cluster queue's redrive target (a FIFO queue's must be FIFO)",
        )
        self.queue = sqs.Queue(
            self,
            "AlbumClusterQueue",
            fifo=True,
            # The body holds the task token: every attempt of a state is a new message.
            content_based_deduplication=True,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=StackKey.of(self, settings),
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(6 * WRITER_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=5
            ),
        )
        self.function = make_function(
            "AlbumClusterWriterFunction",
            "album_steps.cluster_writer",
            "Album pipeline step Cluster: an album's new faces placed by its one writer",
            memory_size=2048,
            timeout=cdk.Duration.seconds(WRITER_TIMEOUT_SECONDS),
            image=True,
        )
        self.function.function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE)
        )

    def grant_answers(self, machine: sfn.IStateMachine) -> None:
        """The writer answers the tokens of this state machine's Cluster tasks."""
        self.function.allow(
            "AnswerClusterTasks",
            ["states:SendTaskSuccess", "states:SendTaskFailure"],
            [machine.state_machine_arn],
        )

    def grant_recluster_requests(self, fn: ProjectFunction) -> None:
        """A large album's recluster is asked of its writer (faceflow.storage.messages)."""
        fn.function.add_environment(AlbumEnv.CLUSTER_QUEUE_URL.value, self.queue.queue_url)
        fn.allow("AskRecluster", ["sqs:SendMessage"], [self.queue.queue_arn])
        key = self.queue.encryption_master_key
        fn.allow("ClusterQueueKey", ["kms:GenerateDataKey", "kms:Decrypt"], [key.key_arn])

    def alarms(self, topic: sns.ITopic) -> list[cw.Alarm]:
        return operator_alarms(
            self,
            topic,
            (
                (
                    "AlbumClusterDeadLetterDepth",
                    self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                        period=cdk.Duration.minutes(5), statistic="Maximum"
                    ),
                    1,
                    "Cluster jobs the writer could not take (their executions time out)",
                ),
                (
                    "AlbumClusterQueueAge",
                    self.queue.metric_approximate_age_of_oldest_message(
                        period=cdk.Duration.minutes(5), statistic="Maximum"
                    ),
                    900,
                    "Cluster jobs waiting more than 15 minutes for the album's writer",
                ),
            ),
        )
