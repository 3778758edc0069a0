"""The templates' Lambda-backed custom resources, run once at start-up as CloudFormation runs
them on a create: the function gets the Create event with its resolved properties and a
presigned ResponseURL (a PUT to a local bucket through the S3 front, which checks its
signature), and what it PUTs there is the resource's answer. Its `Data` become the resource's
attributes (`Fn::GetAtt`) and its PhysicalResourceId its `Ref`.

Only resources whose ServiceToken is a Python function of the templates run here (the signing-key
resource of the share stack); provider-framework resources (Node.js framework functions) and
CDK's own helpers are not part of the local backend.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from local.cfn import ACCOUNT
from local.topology import CustomResourceSpec, FunctionRef, Topology

log = logging.getLogger("local.custom_resources")
RESPONSES_BUCKET = "local-cloudformation-responses"


class CustomResourceFailed(RuntimeError):
    pass


def run_all(
    topology: Topology,
    invoke: Callable[[FunctionRef, dict[str, Any]], Any],
    s3: Any,
    presigner: Any,
    region: str,
) -> list[CustomResourceSpec]:
    """Create every custom resource (in template order) and bind its answer."""
    specs = topology.custom_resources()
    if not specs:
        return specs
    kwargs: dict[str, Any] = {"Bucket": RESPONSES_BUCKET}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    for spec in specs:
        request_id = str(uuid.uuid4())
        key = f"{spec.stack}/{spec.logical_id}/{request_id}"
        event = {
            "RequestType": "Create",
            "ServiceToken": spec.properties["ServiceToken"],
            "ResponseURL": presigner.generate_presigned_url(
                "put_object", Params={"Bucket": RESPONSES_BUCKET, "Key": key}, ExpiresIn=3600
            ),
            "StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{spec.stack}/local",
            "RequestId": request_id,
            "ResourceType": spec.type,
            "LogicalResourceId": spec.logical_id,
            "ResourceProperties": spec.properties,
        }
        invoke(spec.function, event)
        answer = json.loads(s3.get_object(Bucket=RESPONSES_BUCKET, Key=key)["Body"].read())
        if answer.get("Status") != "SUCCESS":
            raise CustomResourceFailed(
                f"{spec.stack}/{spec.logical_id}: {answer.get('Reason') or 'FAILED'}"
            )
        data = {k: str(v) for k, v in (answer.get("Data") or {}).items()}
        topology.resolver.bind(spec.stack, spec.logical_id, answer["PhysicalResourceId"], **data)
        log.info("custom resource %s/%s created", spec.stack, spec.logical_id)
    return specs
