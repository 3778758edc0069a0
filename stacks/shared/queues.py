"""S3 → SQS under the stack key: the queue's bucket may send, and S3 may use the key for exactly
the messages of that bucket.

CDK's own `s3_notifications.SqsDestination` adds S3 to the queue key's policy for any bucket
anywhere (`kms:GenerateDataKey*` on `*`, no condition); this destination names the bucket and
the account instead.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct


@jsii.implements(s3.IBucketNotificationDestination)
class EncryptedQueueDestination:
    """A bucket notification into `queue`, a queue encrypted with a key of this app."""

    def __init__(self, queue: sqs.Queue) -> None:
        if queue.encryption_master_key is None:
            raise ValueError(f"{queue.node.path}: not KMS-encrypted; use SqsDestination")
        self.queue = queue

    def bind(
        self, _scope: Construct, bucket: s3.IBucketRef
    ) -> s3.BucketNotificationDestinationConfig:
        bucket_arn = bucket.bucket_ref.bucket_arn
        this_bucket = {
            "ArnLike": {"aws:SourceArn": bucket_arn},
            "StringEquals": {"aws:SourceAccount": cdk.Stack.of(self.queue).account},
        }
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[self.queue.queue_arn],
                conditions=this_bucket,
            )
        )
        self.queue.encryption_master_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3NotificationsOfOneBucket",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=this_bucket,
            )
        )
        return s3.BucketNotificationDestinationConfig(
            arn=self.queue.queue_arn,
            type=s3.BucketNotificationDestinationType.QUEUE,
            dependencies=[self.queue],
        )
