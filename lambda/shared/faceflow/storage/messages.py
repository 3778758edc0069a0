"""What FaceFlow sends to other AWS services: the pipeline's executions (Step Functions), the
job-finished notice (SNS), share export and recluster requests (SQS) and share emails (SES)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from faceflow.config import AlbumEnv, get


def start_pipeline(job: dict[str, Any]) -> None:
    """The job's execution, named after the job: starting it twice starts it once."""
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=get(AlbumEnv.STATE_MACHINE_ARN),
            name=job["jobId"],
            input=json.dumps(job),
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise


def publish_job_finished(message: dict[str, Any]) -> None:
    aws.client("sns").publish(
        TopicArn=get(AlbumEnv.NOTIFY_TOPIC_ARN),
        Subject="FaceFlow job finished",
        Message=json.dumps(message),
    )


def request_export(user_id: str, album_id: str, share_id: str) -> None:
    body = {"userId": user_id, "albumId": album_id, "shareId": share_id}
    aws.client("sqs").send_message(
        QueueUrl=get(AlbumEnv.SHARE_QUEUE_URL), MessageBody=json.dumps(body)
    )


def request_recluster(user_id: str, album_id: str, request_id: str) -> None:
    """A recluster, asked of the album's one writer (its FIFO message group)."""
    body = {"kind": "recluster", "userId": user_id, "albumId": album_id, "requestId": request_id}
    aws.client("sqs").send_message(
        QueueUrl=get(AlbumEnv.CLUSTER_QUEUE_URL),
        MessageBody=json.dumps(body),
        MessageGroupId=album_id,
    )


def send_share_email(address: str, template_data: str) -> None:
    """One templated email to one recipient (a single To address: recipients never see each
    other)."""
    aws.client("ses").send_templated_email(
        Source=get(AlbumEnv.SHARE_SENDER),
        Destination={"ToAddresses": [address]},
        Template=get(AlbumEnv.SHARE_TEMPLATE),
        TemplateData=template_data,
    )
