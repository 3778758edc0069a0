"""Read a synthesized cloud assembly (cdk.out) and resolve CloudFormation intrinsics to local names.

The local runtime is the IaC: every bucket, table, topic, function and route it serves comes from
these templates. Physical names that CloudFormation would generate are derived here from the stack
and logical id; ids that only moto can generate (user pools, app clients) are bound once created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
ASSEMBLY_MANIFEST = "manifest.json"


class Unresolvable(ValueError):
    """An intrinsic the local runtime cannot give a value to (named with its stack and path)."""


@dataclass(frozen=True)
class Resource:
    stack: str
    logical_id: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class ImageSource:
    """A container image asset as synth staged it: its build context and Dockerfile."""

    context: Path
    dockerfile: Path

    def code_dirs(self) -> list[Path]:
        """The folders the Dockerfile copies into the function's task root, as a zip function's
        code and layers would be: what a local worker puts on sys.path, in the same order
        (a later COPY shadows an earlier one, so it comes first)."""
        folders = []
        for line in self.dockerfile.read_text().splitlines():
            parts = line.split()
            # COPY <folder> ${LAMBDA_TASK_ROOT}/: into the task root itself, not a sub-folder
            if len(parts) == 3 and parts[0] == "COPY" and parts[2].rstrip("/").endswith("ROOT}"):
                folders.append(self.context / parts[1])
        return list(reversed(folders))


@dataclass
class StackTemplate:
    name: str
    body: dict[str, Any]
    asset_dirs: dict[str, Path] = field(default_factory=dict)  # object key (hash.zip) → folder
    image_dirs: dict[str, ImageSource] = field(default_factory=dict)  # image tag → its source

    def resources(self, *types: str) -> Iterator[Resource]:
        for logical_id, res in self.body.get("Resources", {}).items():
            if not types or res["Type"] in types:
                yield Resource(self.name, logical_id, res["Type"], res.get("Properties", {}))


def has_assembly(outdir: Path) -> bool:
    """Whether `outdir` holds a cloud assembly (its manifest)."""
    return (outdir / ASSEMBLY_MANIFEST).exists()


def load_assembly(outdir: Path) -> list[StackTemplate]:
    """Every CloudFormation stack of a cloud assembly, with its file assets staged beside it."""
    manifest = json.loads((outdir / ASSEMBLY_MANIFEST).read_text())
    stacks: list[StackTemplate] = []
    assets: dict[str, Path] = {}
    images: dict[str, ImageSource] = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "cdk:asset-manifest":
            entries = json.loads((outdir / artifact["properties"]["file"]).read_text())
            for entry in entries.get("files", {}).values():
                source = outdir / entry["source"]["path"]
                for dest in entry["destinations"].values():
                    if source.is_dir():
                        assets[dest["objectKey"]] = source
            for entry in entries.get("dockerImages", {}).values():
                context = outdir / entry["source"]["directory"]
                dockerfile = context / entry["source"].get("dockerFile", "Dockerfile")
                for dest in entry["destinations"].values():
                    images[dest["imageTag"]] = ImageSource(context, dockerfile)
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] == "aws:cloudformation:stack":
            body = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            stacks.append(StackTemplate(artifact.get("displayName", name), body, assets, images))
    return stacks


def _local_name(stack: str, logical_id: str, limit: int = 63) -> str:
    return f"{stack}-{logical_id}"[:limit]


def _bucket_name(stack: str, logical_id: str) -> str:
    name = re.sub(r"[^a-z0-9-]", "-", f"{stack}-{logical_id}".lower())
    return name[:63].strip("-")


class Resolver:
    """Gives Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::ImportValue … their local values."""

    def __init__(self, stacks: list[StackTemplate], region: str, queue_base_url: str = ""):
        self.stacks = {s.name: s for s in stacks}
        self.region = region
        self.queue_base_url = queue_base_url
        self._bound: dict[tuple[str, str], dict[str, str]] = {}
        self._exports: dict[str, tuple[str, Any]] = {}
        for s in stacks:
            for output in s.body.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                if export:
                    self._exports[export if isinstance(export, str) else str(export)] = (
                        s.name,
                        output["Value"],
                    )

    # -- physical ids -------------------------------------------------------------------------

    def bind(self, stack: str, logical_id: str, ref: str, **attrs: str) -> None:
        """Record an id only the local service could generate (a user pool id, a client id)."""
        self._bound[(stack, logical_id)] = {"Ref": ref, **attrs}

    def resource(self, stack: str, logical_id: str) -> dict[str, Any]:
        try:
            return self.stacks[stack].body["Resources"][logical_id]
        except KeyError:
            raise Unresolvable(f"{stack}: no resource {logical_id!r}") from None

    def physical_name(self, stack: str, logical_id: str) -> str:
        res = self.resource(stack, logical_id)
        props = res.get("Properties", {})
        kind = res["Type"]
        explicit = {
            "AWS::S3::Bucket": "BucketName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::DynamoDB::GlobalTable": "TableName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::SageMaker::Endpoint": "EndpointName",
            "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
            "AWS::SageMaker::Model": "ModelName",
            "AWS::Cognito::UserPool": "UserPoolName",
            "AWS::SecretsManager::Secret": "Name",  # pragma: allowlist secret
        }.get(kind)
        if explicit and props.get(explicit) is not None:
            return str(self.resolve(props[explicit], stack))
        if kind == "AWS::S3::Bucket":
            return _bucket_name(stack, logical_id)
        if kind == "AWS::Lambda::Function":
            return _local_name(stack, logical_id, 64)
        if kind == "AWS::SQS::Queue" and props.get("FifoQueue"):
            return _local_name(stack, logical_id, 75) + ".fifo"  # as CloudFormation names one
        return _local_name(stack, logical_id, 80)

    def _arn(self, service: str, resource: str) -> str:
        region = "" if service == "s3" else self.region
        account = "" if service == "s3" else ACCOUNT
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    def ref(self, stack: str, logical_id: str) -> str:
        if (stack, logical_id) in self._bound:
            return self._bound[(stack, logical_id)]["Ref"]
        params = self.stacks[stack].body.get("Parameters", {})
        if logical_id in params:
            if "Default" not in params[logical_id]:
                raise Unresolvable(f"{stack}: parameter {logical_id} has no default")
            return params[logical_id]["Default"]
        res = self.resource(stack, logical_id)
        kind = res["Type"]
        name = self.physical_name(stack, logical_id)
        if kind == "AWS::SNS::Topic":
            return self._arn("sns", name)
        if kind == "AWS::SQS::Queue":
            return f"{self.queue_base_url}/{ACCOUNT}/{name}"
        if kind in ("AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig"):
            what = "endpoint" if kind.endswith("Endpoint") else "endpoint-config"
            return self._arn("sagemaker", f"{what}/{name.lower()}")
        if kind == "AWS::ApiGateway::Stage":
            return res["Properties"]["StageName"]
        if kind in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
            raise Unresolvable(f"{stack}: {logical_id} is not created yet")
        if kind.startswith(("AWS::ApiGateway::", "AWS::ApiGatewayV2::")):
            return logical_id  # ids of the API's own tree: only used to link its parts
        return name

    def get_att(self, stack: str, logical_id: str, attr: str) -> str:
        bound = self._bound.get((stack, logical_id), {})
        if attr in bound:
            return bound[attr]
        kind = self.resource(stack, logical_id)["Type"]
        name = self.physical_name(stack, logical_id)
        table = kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
        simple: dict[tuple[str, str], str] = {
            ("AWS::S3::Bucket", "Arn"): self._arn("s3", name),
            ("AWS::S3::Bucket", "DomainName"): f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "RegionalDomainName"): f"{name}.s3.{self.region}.amazonaws.com",
            ("AWS::Lambda::Function", "Arn"): self._arn("lambda", f"function:{name}"),
            ("AWS::SNS::Topic", "TopicArn"): self._arn("sns", name),
            ("AWS::SNS::Topic", "TopicName"): name,
            ("AWS::SQS::Queue", "Arn"): self._arn("sqs", name),
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::SQS::Queue", "QueueUrl"): f"{self.queue_base_url}/{ACCOUNT}/{name}",
            ("AWS::SageMaker::Endpoint", "EndpointName"): name,
            ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"): name,
            ("AWS::SageMaker::Model", "ModelName"): name,
            ("AWS::ApiGateway::RestApi", "RootResourceId"): f"{logical_id}/",
            # Keys are not created locally (moto's services store data unencrypted); queues and
            # tables name them in properties the runtime passes through.
            ("AWS::KMS::Key", "Arn"): self._arn("kms", f"key/{name}"),
        }
        if table and attr == "Arn":
            return self._arn("dynamodb", f"table/{name}")
        if table and attr == "StreamArn":  # moto's label is a timestamp: local/streams.py asks
            return self._arn("dynamodb", f"table/{name}/stream/local")
        if (kind, attr) in simple:
            return simple[(kind, attr)]
        raise Unresolvable(f"{stack}: Fn::GetAtt {logical_id}.{attr} ({kind})")

    # -- intrinsics ---------------------------------------------------------------------------

    def _pseudo(self, stack: str, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack,
            "AWS::NoValue": None,
        }.get(name, "") or None

    def resolve(self, value: Any, stack: str) -> Any:
        if isinstance(value, list):
            return [self.resolve(v, stack) for v in value]
        if not isinstance(value, dict):
            return value
        fn = next(iter(value), "")
        if len(value) != 1 or not (fn == "Ref" or fn.startswith("Fn::")):
            return {k: self.resolve(v, stack) for k, v in value.items()}
        intrinsic = self._INTRINSICS.get(fn)
        if intrinsic is None:
            raise Unresolvable(f"{stack}: {fn} is not supported locally")
        return intrinsic(self, value[fn], stack)

    def _ref_intrinsic(self, name: str, stack: str) -> Any:
        return self._pseudo(stack, name) if name.startswith("AWS::") else self.ref(stack, name)

    def _get_att(self, arg: Any, stack: str) -> str:
        logical_id, attr = arg if isinstance(arg, list) else arg.split(".", 1)
        return self.get_att(stack, logical_id, attr)

    def _join(self, arg: list[Any], stack: str) -> str:
        sep, parts = arg
        return sep.join(str(self.resolve(p, stack)) for p in self.resolve(parts, stack))

    def _select(self, arg: list[Any], stack: str) -> Any:
        index, items = arg
        return self.resolve(items, stack)[int(self.resolve(index, stack))]

    def _split(self, arg: list[Any], stack: str) -> list[str]:
        sep, text = arg
        return str(self.resolve(text, stack)).split(sep)

    def _sub(self, arg: str | list[Any], stack: str) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        values = {k: self.resolve(v, stack) for k, v in variables.items()}

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in values:
                return str(values[name])
            if name.startswith("AWS::"):
                return str(self._pseudo(stack, name))
            if "." in name:
                logical_id, attr = name.split(".", 1)
                return self.get_att(stack, logical_id, attr)
            return self.ref(stack, name)

        # ${!…} is CloudFormation's escape for a literal ${…}: not substituted.
        return re.sub(r"\$\{([^!}][^}]*)\}", sub, text)

    def _import_value(self, arg: Any, stack: str) -> Any:
        export = self.resolve(arg, stack)
        if export not in self._exports:
            raise Unresolvable(f"{stack}: no stack exports {export!r}")
        source_stack, source_value = self._exports[export]
        return self.resolve(source_value, source_stack)

    # The intrinsics the templates use; any other fails start-up with its name.
    _INTRINSICS: dict[str, Callable[[Resolver, Any, str], Any]] = {
        "Ref": _ref_intrinsic,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::Sub": _sub,
        "Fn::ImportValue": _import_value,
    }

    def arn_owner(self, arn: str) -> tuple[str, str] | None:
        """The (stack, logical id) of the Lambda function an ARN names, if any."""
        for stack in self.stacks.values():
            for res in stack.resources("AWS::Lambda::Function"):
                if self.get_att(stack.name, res.logical_id, "Arn") == arn:
                    return stack.name, res.logical_id
        return None
