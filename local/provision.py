"""Create what the templates declare in the local AWS (moto), through the services' own APIs.

Lambda functions are not created in moto (its Lambda needs Docker): their triggers become local
queues instead, which the dispatcher drains. S3 → function notifications become S3 → SQS
notifications with the same events and filters; SNS → function subscriptions become SNS → SQS
subscriptions. Each function trigger also gets a dead-letter queue for events that kept failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from local.cfn import ACCOUNT
from local.dispatcher import Trigger
from local.topology import (
    FunctionRef,
    Topology,
    UserPoolClientSpec,
    UserPoolSpec,
)

# CloudFormation property → CreateUserPool parameter, where moto and the API take it as is.
_POOL_PARAMS = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "MfaConfiguration",
    "AdminCreateUserConfig",
    "Schema",
    "UsernameConfiguration",
    "AccountRecoverySetting",
)
_CLIENT_PARAMS = (
    "ClientName",
    "GenerateSecret",
    "ExplicitAuthFlows",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "PreventUserExistenceErrors",
)


@dataclass(frozen=True)
class UserPool:
    stack: str
    logical_id: str
    pool_id: str
    client_ids: tuple[str, ...]


def _queue_name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", "-".join(parts))[:80]


class Provisioner:
    def __init__(self, topology: Topology, clients: Any, region: str):
        """`clients(service)` returns a boto3 client bound to the local AWS."""
        self.topology = topology
        self.client = clients
        self.region = region

    def create_storage(self) -> None:
        s3 = self.client("s3")
        for bucket in self.topology.buckets():
            kwargs: dict[str, Any] = {"Bucket": bucket.name}
            if self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            s3.create_bucket(**kwargs)
            if bucket.cors_rules:
                s3.put_bucket_cors(
                    Bucket=bucket.name, CORSConfiguration={"CORSRules": bucket.cors_rules}
                )
        ddb = self.client("dynamodb")
        for table in self.topology.tables():
            kwargs = {
                "TableName": table.name,
                "KeySchema": table.key_schema,
                "AttributeDefinitions": table.attributes,
                "BillingMode": "PAY_PER_REQUEST",
            }
            if table.global_indexes:
                kwargs["GlobalSecondaryIndexes"] = table.global_indexes
            if table.local_indexes:
                kwargs["LocalSecondaryIndexes"] = table.local_indexes
            if table.stream_view_type:
                kwargs["StreamSpecification"] = {
                    "StreamEnabled": True,
                    "StreamViewType": table.stream_view_type,
                }
            ddb.create_table(**kwargs)
            if table.ttl_attribute:
                ddb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        sns = self.client("sns")
        for topic in self.topology.topics():
            sns.create_topic(Name=topic.name)
        self._create_secrets_and_mail()

    def _create_secrets_and_mail(self) -> None:
        """Secrets (with CloudFormation's generated placeholder unless the template gives a
        value), SES identities (moto verifies them at once) and SES templates."""
        secrets = self.client("secretsmanager")
        for secret in self.topology.secrets():
            secrets.create_secret(Name=secret.name, SecretString=secret.value)
        ses = self.client("ses")
        for identity in self.topology.email_identities():
            if "@" in identity:
                ses.verify_email_identity(EmailAddress=identity)
            else:
                ses.verify_domain_identity(Domain=identity)
        for template in self.topology.email_templates():
            ses.create_template(Template=template)

    def create_user_pools(self) -> list[UserPool]:
        idp = self.client("cognito-idp")
        created: dict[tuple[str, str], str] = {}
        for pool in self.topology.user_pools():
            created[(pool.stack, pool.logical_id)] = self._create_pool(idp, pool)
        clients: dict[tuple[str, str], list[str]] = {key: [] for key in created}
        for spec in self.topology.user_pool_clients():
            clients[spec.pool].append(self._create_client(idp, spec, created[spec.pool]))
        return [
            UserPool(stack, logical_id, pool_id, tuple(clients[(stack, logical_id)]))
            for (stack, logical_id), pool_id in created.items()
        ]

    def _create_pool(self, idp: Any, pool: UserPoolSpec) -> str:
        props = self.topology.resolver.resolve(pool.properties, pool.stack)
        kwargs = {k: props[k] for k in _POOL_PARAMS if k in props}
        pool_id = idp.create_user_pool(PoolName=pool.name, **kwargs)["UserPool"]["Id"]
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool_id}"
        self.topology.resolver.bind(
            pool.stack,
            pool.logical_id,
            pool_id,
            Arn=f"arn:aws:cognito-idp:{self.region}:{ACCOUNT}:userpool/{pool_id}",
            ProviderName=provider,
            ProviderURL=f"https://{provider}",
        )
        return pool_id

    def _create_client(self, idp: Any, spec: UserPoolClientSpec, pool_id: str) -> str:
        props = self.topology.resolver.resolve(
            {k: v for k, v in spec.properties.items() if k != "UserPoolId"}, spec.stack
        )
        kwargs = {k: props[k] for k in _CLIENT_PARAMS if k in props}
        kwargs.setdefault("ClientName", spec.logical_id)
        client = idp.create_user_pool_client(UserPoolId=pool_id, **kwargs)["UserPoolClient"]
        self.topology.resolver.bind(spec.stack, spec.logical_id, client["ClientId"])
        return client["ClientId"]

    def _queue(self, name: str, visibility_s: int) -> tuple[str, str]:
        """A new queue's URL and ARN."""
        url = self.client("sqs").create_queue(
            QueueName=name, Attributes={"VisibilityTimeout": str(visibility_s)}
        )["QueueUrl"]
        return url, self._queue_arn(url)

    def _queue_arn(self, url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]
        return attributes["QueueArn"]

    def create_triggers(self, timeouts: dict[FunctionRef, int]) -> list[Trigger]:
        """Queues for every S3 notification and SNS subscription that targets a function, and
        for the consumers of their dead letters. Visibility: the function's timeout, as an event
        source mapping would use."""
        triggers = self._s3_triggers(timeouts) + self._sns_triggers(timeouts)
        return triggers + self._dead_letter_consumer_triggers(triggers)

    def _s3_triggers(self, timeouts: dict[FunctionRef, int]) -> list[Trigger]:
        """One queue per function, however many buckets and filters notify it."""
        triggers: dict[FunctionRef, Trigger] = {}
        per_bucket: dict[str, list[dict[str, Any]]] = {}
        for note in self.topology.s3_notifications():
            fn = note.function
            if fn not in triggers:
                url, arn = self._queue(_queue_name("s3", fn.logical_id), timeouts[fn] + 5)
                dlq, _ = self._queue(_queue_name("dlq-s3", fn.logical_id), 60)
                triggers[fn] = Trigger("s3", fn, url, arn, dlq)
            config: dict[str, Any] = {"QueueArn": triggers[fn].queue_arn, "Events": note.events}
            if note.filter_rules:
                config["Filter"] = {"Key": {"FilterRules": note.filter_rules}}
            per_bucket.setdefault(note.bucket, []).append(config)
        s3 = self.client("s3")
        for bucket, configs in per_bucket.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}
            )
        return list(triggers.values())

    def _sns_triggers(self, timeouts: dict[FunctionRef, int]) -> list[Trigger]:
        """One queue per subscription."""
        sns = self.client("sns")
        triggers = []
        for sub in self.topology.subscriptions():
            fn = sub.function
            topic = sub.topic_arn.rsplit(":", 1)[1]
            url, arn = self._queue(_queue_name("sns", topic, fn.logical_id), timeouts[fn] + 5)
            dlq, _ = self._queue(_queue_name("dlq-sns", topic, fn.logical_id), 60)
            sub_arn = sns.subscribe(TopicArn=sub.topic_arn, Protocol="sqs", Endpoint=arn)[
                "SubscriptionArn"
            ]
            triggers.append(Trigger("sns", fn, url, arn, dlq, sub_arn))
        return triggers

    def _dead_letter_consumer_triggers(self, producers: list[Trigger]) -> list[Trigger]:
        """The consumer of a function's on-failure queue drains that function's trigger DLQs."""
        triggers: list[Trigger] = []
        for spec in self.topology.dead_letter_consumers():
            # A consumer's own trigger may produce dead letters too: it counts as a producer.
            sources = [t for t in [*producers, *triggers] if t.function == spec.producer]
            for producer in sources:
                # Unique: names too long for SQS would otherwise be cut to the same one.
                index = str(len(producers) + len(triggers))
                dlq, _ = self._queue(_queue_name("dlq-sqs", spec.consumer.logical_id, index), 60)
                queue_arn = self._queue_arn(producer.dlq_url)
                triggers.append(Trigger("sqs", spec.consumer, producer.dlq_url, queue_arn, dlq))
        return triggers
