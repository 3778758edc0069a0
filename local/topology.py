"""What the templates declare, in the shapes the local runtime acts on.

Each reader walks the templates once; nothing here is listed by hand. Values that depend on ids
moto generates (user pools, app clients) are read after provisioning has bound them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.cfn import Resolver, StackTemplate

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
CUSTOM_RESOURCE_TYPES = ("Custom::", "AWS::CloudFormation::CustomResource")
# CDK's bucket notifications handler (Node.js inline code): read as S3 notifications instead.
BUCKET_NOTIFICATIONS = "Custom::S3BucketNotifications"
# CloudFormation's CORS rule fields → the S3 API's.
_CORS_FIELDS = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}


@dataclass(frozen=True)
class FunctionRef:
    stack: str
    logical_id: str

    def __str__(self) -> str:
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class BucketSpec:
    stack: str
    logical_id: str
    name: str
    cors_rules: list[dict[str, Any]]


@dataclass(frozen=True)
class TableSpec:
    stack: str
    logical_id: str
    name: str
    key_schema: list[dict[str, str]]
    attributes: list[dict[str, str]]
    global_indexes: list[dict[str, Any]]
    ttl_attribute: str | None
    local_indexes: list[dict[str, Any]] = field(default_factory=list)
    stream_view_type: str | None = None  # StreamSpecification's, when the table has a stream


@dataclass(frozen=True)
class TopicSpec:
    stack: str
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class UserPoolSpec:
    stack: str
    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class UserPoolClientSpec:
    stack: str
    logical_id: str
    pool: tuple[str, str]  # (stack, logical id) of its user pool
    properties: dict[str, Any]


@dataclass
class FunctionSpec:
    ref: FunctionRef
    name: str
    handler: str
    environment: dict[str, str]
    code_dirs: list[Path]  # the function's asset, then its layers (as on sys.path in Lambda)
    timeout_s: int
    max_event_retries: int  # async invocations (S3, SNS): EventInvokeConfig or Lambda's default 2
    image: bool = False  # a container image function (its code_dirs: what its Dockerfile copies)


@dataclass(frozen=True)
class S3NotificationSpec:
    bucket: str
    function: FunctionRef
    events: list[str]
    filter_rules: list[dict[str, str]]  # [{"Name": "prefix"|"suffix", "Value": …}]


@dataclass(frozen=True)
class DeadLetterConsumerSpec:
    """A function's on-failure queue (EventInvokeConfig) that another function consumes
    (EventSourceMapping): locally, the producer's trigger DLQs stand for that queue."""

    producer: FunctionRef
    consumer: FunctionRef


@dataclass(frozen=True)
class SubscriptionSpec:
    topic_arn: str
    function: FunctionRef


@dataclass(frozen=True)
class RouteSpec:
    method: str  # GET, POST, … or ANY
    path: str  # "/apis/images/{userId}"
    function: FunctionRef
    authorization: str  # NONE | COGNITO_USER_POOLS | …


@dataclass(frozen=True)
class RestApiSpec:
    stack: str
    logical_id: str
    stage: str
    routes: list[RouteSpec]


@dataclass(frozen=True)
class AsyncEndpointSpec:
    name: str
    output_path: str  # s3://bucket/prefix
    failure_path: str | None
    success_topic: str | None
    error_topic: str | None
    max_concurrency: int
    container_environment: dict[str, str] = field(default_factory=dict)
    network_isolated: bool = False  # the model's EnableNetworkIsolation


@dataclass(frozen=True)
class SecretSpec:
    name: str
    value: str


@dataclass(frozen=True)
class QueueSpec:
    stack: str
    logical_id: str
    name: str
    attributes: dict[str, str]  # CreateQueue's: VisibilityTimeout, RedrivePolicy


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An SQS → Lambda event source mapping (mappings on other sources are not read)."""

    queue_name: str
    queue_arn: str  # the mapping's EventSourceArn, which its events name as eventSourceARN
    function: FunctionRef
    batch_size: int
    # FunctionResponseTypes holds ReportBatchItemFailures: the function's answer names the
    # messages that failed (`batchItemFailures`); the others are done.
    reports_item_failures: bool = False


@dataclass(frozen=True)
class StreamMappingSpec:
    """A DynamoDB stream → Lambda event source mapping (local/streams.py runs it)."""

    table: str  # the table whose stream it reads
    function: FunctionRef
    batch_size: int
    starting_position: str  # LATEST | TRIM_HORIZON
    filters: list[dict[str, Any]]  # FilterCriteria's patterns, parsed
    max_retries: int


@dataclass(frozen=True)
class WebSocketApiSpec:
    """An API Gateway v2 WebSocket API: its stage and the function of each route key."""

    stack: str
    logical_id: str
    stage: str
    routes: dict[str, FunctionRef]  # "$connect", "$disconnect", …


@dataclass(frozen=True)
class StateMachineSpec:
    stack: str
    logical_id: str
    name: str
    definition: str  # the resolved ASL


@dataclass(frozen=True)
class DistributionSpec:
    stack: str
    logical_id: str
    bucket: str  # the first S3 origin's
    origin_path: str
    key_group: tuple[str, str] | None  # (stack, logical id) of the default behaviour's group
    methods: tuple[str, ...] = ("GET", "HEAD")


@dataclass(frozen=True)
class CustomResourceSpec:
    """A custom resource whose ServiceToken is a Python function of the templates."""

    stack: str
    logical_id: str
    type: str
    function: FunctionRef
    properties: dict[str, Any]  # resolved when read: ServiceToken included


class Topology:
    def __init__(self, stacks: list[StackTemplate], resolver: Resolver):
        self.stacks = stacks
        self.resolver = resolver

    def _all(self, *types: str):
        for stack in self.stacks:
            yield from stack.resources(*types)

    def _r(self, value: Any, stack: str) -> Any:
        return self.resolver.resolve(value, stack)

    def _function_of_arn(self, value: Any, stack: str) -> FunctionRef:
        arn = self._r(value, stack)
        owner = self.resolver.arn_owner(arn)
        if owner is None:
            raise ValueError(f"{stack}: {arn} is not a Lambda function of these templates")
        return FunctionRef(*owner)

    def buckets(self) -> list[BucketSpec]:
        return [
            BucketSpec(
                r.stack,
                r.logical_id,
                self.resolver.physical_name(r.stack, r.logical_id),
                [
                    {_CORS_FIELDS.get(k, k): v for k, v in rule.items()}
                    for rule in self._r(
                        r.properties.get("CorsConfiguration", {}).get("CorsRules", []), r.stack
                    )
                ],
            )
            for r in self._all("AWS::S3::Bucket")
        ]

    def tables(self) -> list[TableSpec]:
        specs = []
        for r in self._all(*TABLE_TYPES):
            p = r.properties
            ttl = p.get("TimeToLiveSpecification") or {}
            specs.append(
                TableSpec(
                    r.stack,
                    r.logical_id,
                    self.resolver.physical_name(r.stack, r.logical_id),
                    p["KeySchema"],
                    p["AttributeDefinitions"],
                    [
                        {k: g[k] for k in ("IndexName", "KeySchema", "Projection") if k in g}
                        for g in p.get("GlobalSecondaryIndexes", [])
                    ],
                    ttl.get("AttributeName") if ttl.get("Enabled", True) else None,
                    [
                        {k: g[k] for k in ("IndexName", "KeySchema", "Projection") if k in g}
                        for g in p.get("LocalSecondaryIndexes", [])
                    ],
                    (p.get("StreamSpecification") or {}).get("StreamViewType"),
                )
            )
        return specs

    def secrets(self) -> list[SecretSpec]:
        import secrets as random

        specs = []
        for r in self._all("AWS::SecretsManager::Secret"):
            value = self._r(r.properties.get("SecretString"), r.stack)
            specs.append(
                SecretSpec(
                    self.resolver.physical_name(r.stack, r.logical_id),
                    value if isinstance(value, str) else random.token_urlsafe(24),
                )
            )
        return specs

    def email_identities(self) -> list[str]:
        return [
            str(self._r(r.properties["EmailIdentity"], r.stack))
            for r in self._all("AWS::SES::EmailIdentity")
        ]

    def email_templates(self) -> list[dict[str, str]]:
        return [
            {k: v for k, v in self._r(r.properties["Template"], r.stack).items() if v is not None}
            for r in self._all("AWS::SES::Template")
        ]

    def topics(self) -> list[TopicSpec]:
        return [
            TopicSpec(
                r.stack,
                r.logical_id,
                self.resolver.physical_name(r.stack, r.logical_id),
                self.resolver.ref(r.stack, r.logical_id),
            )
            for r in self._all("AWS::SNS::Topic")
        ]

    def user_pools(self) -> list[UserPoolSpec]:
        return [
            UserPoolSpec(
                r.stack,
                r.logical_id,
                str(self._r(r.properties.get("UserPoolName"), r.stack) or r.logical_id),
                r.properties,
            )
            for r in self._all("AWS::Cognito::UserPool")
        ]

    def user_pool_clients(self) -> list[UserPoolClientSpec]:
        specs = []
        for r in self._all("AWS::Cognito::UserPoolClient"):
            pool = r.properties["UserPoolId"]
            if not (isinstance(pool, dict) and "Ref" in pool):
                raise ValueError(f"{r.stack}/{r.logical_id}: UserPoolId must Ref a user pool")
            specs.append(
                UserPoolClientSpec(r.stack, r.logical_id, (r.stack, pool["Ref"]), r.properties)
            )
        return specs

    def functions(self) -> list[FunctionSpec]:
        retries: dict[FunctionRef, int] = {}
        for r in self._all("AWS::Lambda::EventInvokeConfig"):
            name = self._r(r.properties["FunctionName"], r.stack)
            retries[FunctionRef(r.stack, self._logical_of_name(r.stack, name))] = int(
                r.properties.get("MaximumRetryAttempts", 2)
            )
        specs = []
        for stack in self.stacks:
            for r in stack.resources("AWS::Lambda::Function"):
                code = r.properties.get("Code", {})
                if "ZipFile" in code:
                    continue  # inline code: CDK's own deploy-time helpers (notifications, …)
                ref = FunctionRef(r.stack, r.logical_id)
                handler = r.properties.get("Handler")
                if "ImageUri" in code:  # a container image: its CMD is the handler
                    handler = r.properties["ImageConfig"]["Command"][0]
                    dirs = self._image_dirs(stack, code["ImageUri"])
                else:
                    dirs = (
                        [stack.asset_dirs[code["S3Key"]]]
                        if code.get("S3Key") in stack.asset_dirs
                        else []
                    )
                for layer in r.properties.get("Layers", []):
                    dirs.extend(self._layer_dirs(stack, layer))
                env = r.properties.get("Environment", {}).get("Variables", {})
                specs.append(
                    FunctionSpec(
                        ref=ref,
                        name=self.resolver.physical_name(r.stack, r.logical_id),
                        handler=handler,
                        environment={k: str(self._r(v, r.stack)) for k, v in env.items()},
                        code_dirs=dirs,
                        image="ImageUri" in code,
                        timeout_s=int(r.properties.get("Timeout", 3)),
                        max_event_retries=retries.get(ref, 2),
                    )
                )
        return specs

    def dead_letter_consumers(self) -> list[DeadLetterConsumerSpec]:
        def queue_of(value: Any, stack: str) -> tuple[str, str] | None:
            if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
                return (stack, value["Fn::GetAtt"][0])
            return None

        def function_of(value: Any, stack: str) -> FunctionRef:
            return FunctionRef(stack, self._logical_of_name(stack, self._r(value, stack)))

        producers: dict[tuple[str, str], FunctionRef] = {}
        for r in self._all("AWS::Lambda::EventInvokeConfig"):
            on_failure = r.properties.get("DestinationConfig", {}).get("OnFailure", {})
            queue = queue_of(on_failure.get("Destination"), r.stack)
            if queue is not None:
                producers[queue] = function_of(r.properties["FunctionName"], r.stack)
        specs = []
        for r in self._all("AWS::Lambda::EventSourceMapping"):
            queue = queue_of(r.properties.get("EventSourceArn"), r.stack)
            if queue in producers:
                consumer = function_of(r.properties["FunctionName"], r.stack)
                specs.append(DeadLetterConsumerSpec(producers[queue], consumer))
        return specs

    def _logical_of_name(self, stack: str, name: str) -> str:
        for r in self._all("AWS::Lambda::Function"):
            if r.stack == stack and self.resolver.physical_name(stack, r.logical_id) == name:
                return r.logical_id
        return name

    @staticmethod
    def _image_dirs(stack: StackTemplate, uri: Any) -> list[Path]:
        """The code folders of an image function: its URI ends in the asset's tag."""
        tag = json.dumps(uri).rsplit(":", 1)[-1].strip('"}] ')
        source = stack.image_dirs.get(tag)
        return source.code_dirs() if source else []

    def _layer_dirs(self, stack: StackTemplate, layer: Any) -> list[Path]:
        if not (isinstance(layer, dict) and "Ref" in layer):
            return []  # a layer from elsewhere (an ARN): nothing local to add
        content = self.resolver.resource(stack.name, layer["Ref"])["Properties"]["Content"]
        folder = stack.asset_dirs.get(content.get("S3Key", ""))
        if folder is None:
            return []
        # Lambda puts /opt/python on sys.path; an unbundled layer source is its own root.
        return [folder / "python"] if (folder / "python").is_dir() else [folder]

    def s3_notifications(self) -> list[S3NotificationSpec]:
        specs = []
        sources = [
            (r.stack, r.properties["BucketName"], r.properties["NotificationConfiguration"])
            for r in self._all("Custom::S3BucketNotifications")
        ] + [
            (r.stack, {"Ref": r.logical_id}, r.properties["NotificationConfiguration"])
            for r in self._all("AWS::S3::Bucket")
            if "NotificationConfiguration" in r.properties
        ]
        for stack, bucket, config in sources:
            for c in config.get("LambdaFunctionConfigurations", []) or []:
                key = c.get("Filter", {}).get("Key", {})
                # CDK spells the field LambdaFunctionArn; CloudFormation's own is Function.
                arn = c.get("LambdaFunctionArn", c.get("Function"))
                specs.append(
                    S3NotificationSpec(
                        bucket=self._r(bucket, stack),
                        function=self._function_of_arn(arn, stack),
                        events=list(c.get("Events") or [c.get("Event")]),
                        filter_rules=self._r(key.get("FilterRules", key.get("Rules", [])), stack),
                    )
                )
        return specs

    def subscriptions(self) -> list[SubscriptionSpec]:
        return [
            SubscriptionSpec(
                self._r(r.properties["TopicArn"], r.stack),
                self._function_of_arn(r.properties["Endpoint"], r.stack),
            )
            for r in self._all("AWS::SNS::Subscription")
            if r.properties.get("Protocol") == "lambda"
        ]

    def rest_apis(self) -> list[RestApiSpec]:
        apis = []
        for api in self._all("AWS::ApiGateway::RestApi"):
            same = [r for r in self._all() if r.stack == api.stack]
            paths: dict[str, str] = {f"{api.logical_id}/": ""}
            parents = {
                r.logical_id: (self._r(r.properties["ParentId"], r.stack), r.properties["PathPart"])
                for r in same
                if r.type == "AWS::ApiGateway::Resource"
                and r.properties.get("RestApiId") == {"Ref": api.logical_id}
            }

            def path_of(resource_id: str, parents=parents, paths=paths) -> str:
                if resource_id not in paths:
                    parent, part = parents[resource_id]
                    paths[resource_id] = f"{path_of(parent)}/{part}"
                return paths[resource_id]

            routes = []
            for m in same:
                if m.type != "AWS::ApiGateway::Method":
                    continue
                if m.properties.get("RestApiId") != {"Ref": api.logical_id}:
                    continue
                integration = m.properties.get("Integration", {})
                if integration.get("Type") not in ("AWS_PROXY", "AWS"):
                    continue  # MOCK (CORS preflight) and HTTP integrations: no function
                uri = self._r(integration["Uri"], m.stack)
                arn = uri.split("/functions/", 1)[1].rsplit("/invocations", 1)[0]
                owner = self.resolver.arn_owner(arn)
                if owner is None:
                    raise ValueError(f"{m.stack}/{m.logical_id}: {arn} is not a local function")
                routes.append(
                    RouteSpec(
                        m.properties["HttpMethod"],
                        path_of(self._r(m.properties["ResourceId"], m.stack)) or "/",
                        FunctionRef(*owner),
                        m.properties.get("AuthorizationType", "NONE"),
                    )
                )
            stages = [
                r.properties["StageName"]
                for r in same
                if r.type == "AWS::ApiGateway::Stage"
                and r.properties.get("RestApiId") == {"Ref": api.logical_id}
            ]
            apis.append(
                RestApiSpec(api.stack, api.logical_id, stages[0] if stages else "prod", routes)
            )
        return apis

    def async_endpoints(self) -> list[AsyncEndpointSpec]:
        specs = []
        for ep in self._all("AWS::SageMaker::Endpoint"):
            config_name = self._r(ep.properties["EndpointConfigName"], ep.stack)
            config = next(
                (
                    c
                    for c in self._all("AWS::SageMaker::EndpointConfig")
                    if self.resolver.physical_name(c.stack, c.logical_id) == config_name
                ),
                None,
            )
            if config is None or "AsyncInferenceConfig" not in config.properties:
                continue  # real-time endpoints are not part of this backend
            a = self._r(config.properties["AsyncInferenceConfig"], config.stack)
            out = a.get("OutputConfig", {})
            notes = out.get("NotificationConfig", {})
            env, isolated = self._model_environment(config)
            specs.append(
                AsyncEndpointSpec(
                    name=self.resolver.physical_name(ep.stack, ep.logical_id),
                    output_path=out["S3OutputPath"],
                    failure_path=out.get("S3FailurePath"),
                    success_topic=notes.get("SuccessTopic"),
                    error_topic=notes.get("ErrorTopic"),
                    max_concurrency=int(
                        a.get("ClientConfig", {}).get("MaxConcurrentInvocationsPerInstance", 1)
                    ),
                    container_environment=env,
                    network_isolated=isolated,
                )
            )
        return specs

    def _model_environment(self, config) -> tuple[dict[str, str], bool]:
        """The first variant's model: its container environment, and whether it is isolated."""
        variants = config.properties.get("ProductionVariants", [])
        if not variants:
            return {}, False
        model_name = self._r(variants[0].get("ModelName"), config.stack)
        for m in self._all("AWS::SageMaker::Model"):
            if self.resolver.physical_name(m.stack, m.logical_id) == model_name:
                container = (
                    m.properties.get("PrimaryContainer")
                    or (m.properties.get("Containers") or [{}])[0]
                )
                env = container.get("Environment", {})
                isolated = m.properties.get("EnableNetworkIsolation") is True
                return {k: str(self._r(v, m.stack)) for k, v in env.items()}, isolated
        return {}, False

    # -- queues, mappings and state machines (local/pipelines.py) ------------------------------

    def queues(self) -> list[QueueSpec]:
        """Dead-letter queues first: a redrive policy must name an existing queue."""
        specs = []
        for r in self._all("AWS::SQS::Queue"):
            props = self._r(r.properties, r.stack)
            attributes = {}
            if "VisibilityTimeout" in props:
                attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            name = self.resolver.physical_name(r.stack, r.logical_id)
            if props.get("FifoQueue"):
                attributes["FifoQueue"] = "true"
                if props.get("ContentBasedDeduplication"):
                    attributes["ContentBasedDeduplication"] = "true"
            specs.append(QueueSpec(r.stack, r.logical_id, name, attributes))
        return sorted(specs, key=lambda q: "RedrivePolicy" in q.attributes)

    def event_source_mappings(self) -> list[EventSourceMappingSpec]:
        specs = []
        for r in self._all("AWS::Lambda::EventSourceMapping"):
            arn = self._r(r.properties["EventSourceArn"], r.stack)
            if ":sqs:" not in arn:
                continue
            function = r.properties["FunctionName"]
            if not (isinstance(function, dict) and "Ref" in function):
                raise ValueError(f"{r.stack}/{r.logical_id}: FunctionName must Ref a function")
            specs.append(
                EventSourceMappingSpec(
                    queue_name=arn.rsplit(":", 1)[1],
                    queue_arn=arn,
                    function=FunctionRef(r.stack, function["Ref"]),
                    batch_size=int(r.properties.get("BatchSize", 10)),
                    reports_item_failures="ReportBatchItemFailures"
                    in (r.properties.get("FunctionResponseTypes") or []),
                )
            )
        return specs

    def stream_mappings(self) -> list[StreamMappingSpec]:
        specs = []
        for r in self._all("AWS::Lambda::EventSourceMapping"):
            arn = self._r(r.properties["EventSourceArn"], r.stack)
            if ":dynamodb:" not in arn or "/stream/" not in arn:
                continue
            function = r.properties["FunctionName"]
            if not (isinstance(function, dict) and "Ref" in function):
                raise ValueError(f"{r.stack}/{r.logical_id}: FunctionName must Ref a function")
            filters = (r.properties.get("FilterCriteria") or {}).get("Filters", [])
            specs.append(
                StreamMappingSpec(
                    table=arn.split(":table/", 1)[1].split("/", 1)[0],
                    function=FunctionRef(r.stack, function["Ref"]),
                    batch_size=int(r.properties.get("BatchSize", 100)),
                    starting_position=r.properties.get("StartingPosition", "LATEST"),
                    filters=[json.loads(self._r(f["Pattern"], r.stack)) for f in filters],
                    max_retries=int(r.properties.get("MaximumRetryAttempts", 2)),
                )
            )
        return specs

    def websocket_apis(self) -> list[WebSocketApiSpec]:
        """Each WebSocket API with its stage (the first) and its routes' Lambda integrations."""
        specs = []
        for api in self._all("AWS::ApiGatewayV2::Api"):
            if api.properties.get("ProtocolType") != "WEBSOCKET":
                continue

            def of_api(*types: str, api=api):
                return [
                    r
                    for r in self._all(*types)
                    if r.stack == api.stack and r.properties.get("ApiId") == {"Ref": api.logical_id}
                ]

            integrations = {
                r.logical_id: self._function_of_arn(self._integration_function(r), r.stack)
                for r in of_api("AWS::ApiGatewayV2::Integration")
            }
            routes = {
                r.properties["RouteKey"]: integrations[
                    self._r(r.properties["Target"], r.stack).removeprefix("integrations/")
                ]
                for r in of_api("AWS::ApiGatewayV2::Route")
            }
            stages = [r.properties["StageName"] for r in of_api("AWS::ApiGatewayV2::Stage")]
            specs.append(WebSocketApiSpec(api.stack, api.logical_id, stages[0], routes))
        return specs

    def _integration_function(self, integration: Any) -> str:
        """A Lambda proxy integration's URI: …:path/2015-03-31/functions/{arn}/invocations."""
        uri = self._r(integration.properties["IntegrationUri"], integration.stack)
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")

    def s3_queue_notifications(self) -> dict[str, list[dict[str, Any]]]:
        """bucket → QueueConfigurations (the S3 API's shape)."""
        per_bucket: dict[str, list[dict[str, Any]]] = {}
        for r in self._all(BUCKET_NOTIFICATIONS):
            config = self._r(r.properties["NotificationConfiguration"], r.stack)
            bucket = self._r(r.properties["BucketName"], r.stack)
            for c in config.get("QueueConfigurations") or []:
                per_bucket.setdefault(bucket, []).append(
                    {k: c[k] for k in ("QueueArn", "Events", "Filter") if k in c}
                )
        return per_bucket

    def state_machines(self) -> list[StateMachineSpec]:
        return [
            StateMachineSpec(
                r.stack,
                r.logical_id,
                self.resolver.physical_name(r.stack, r.logical_id),
                self._r(r.properties["DefinitionString"], r.stack),
            )
            for r in self._all("AWS::StepFunctions::StateMachine")
        ]

    # -- CloudFront (local/cloudfront.py) --------------------------------------------------------

    def distributions(self) -> list[DistributionSpec]:
        specs = []
        for r in self._all("AWS::CloudFront::Distribution"):
            config = r.properties["DistributionConfig"]
            origin = next(o for o in config["Origins"] if "S3OriginConfig" in o)
            domain = self._r(origin["DomainName"], r.stack)
            behaviour = config["DefaultCacheBehavior"]
            groups = behaviour.get("TrustedKeyGroups") or []
            specs.append(
                DistributionSpec(
                    r.stack,
                    r.logical_id,
                    bucket=domain.split(".s3.", 1)[0],
                    origin_path=origin.get("OriginPath", "") or "",
                    key_group=(r.stack, groups[0]["Ref"]) if groups else None,
                    methods=tuple(behaviour.get("AllowedMethods") or ("GET", "HEAD")),
                )
            )
        return specs

    def key_group_keys(self, stack: str, logical_id: str) -> dict[str, str]:
        """The group's public keys by id (their Ref), PEM from EncodedKey, resolved now: the key
        is often an attribute of a custom resource, bound once it ran."""
        group = self.resolver.resource(stack, logical_id)["Properties"]["KeyGroupConfig"]
        keys = {}
        for ref in group["Items"]:
            key_logical = ref["Ref"]
            config = self.resolver.resource(stack, key_logical)["Properties"]["PublicKeyConfig"]
            keys[self.resolver.ref(stack, key_logical)] = self._r(config["EncodedKey"], stack)
        return keys

    # -- custom resources (local/custom_resources.py) --------------------------------------------

    def custom_resources(self) -> list[CustomResourceSpec]:
        """In template order. Provider-framework resources (Node.js functions) and CDK's own
        helpers are left out: they are not part of the local backend."""
        python = {
            (r.stack, r.logical_id)
            for r in self._all("AWS::Lambda::Function")
            if str(r.properties.get("Runtime", "python")).startswith("python")
        }
        specs = []
        for r in self._all():
            if not r.type.startswith(CUSTOM_RESOURCE_TYPES) or r.type == BUCKET_NOTIFICATIONS:
                continue
            token = r.properties.get("ServiceToken")
            if not isinstance(token, dict) or "Fn::GetAtt" not in token:
                continue
            target = (r.stack, token["Fn::GetAtt"][0])
            if target in python:
                specs.append(
                    CustomResourceSpec(
                        r.stack,
                        r.logical_id,
                        r.type,
                        FunctionRef(*target),
                        self._r(r.properties, r.stack),
                    )
                )
        return specs
