"""The signing-key custom resource (Custom::ShareSigningKey), one per key generation: at deploy
time it makes the RSA key pair, writes the private key into the generation's secret and answers
the public key, which the stack registers as a CloudFront public key of the key group.

CloudFormation invokes this function directly (no provider framework) and reads the answer from
the presigned ResponseURL, as for any Lambda-backed custom resource. Create and Update keep the
key the secret already holds for this generation (a re-run, a code change, a stack update never
changes a key); Delete does nothing (the secret is the stack's and goes with it).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from common import aws
from common.observability import logger
from faceflow import signing


def key_pair(secret_id: str, generation: str) -> str:
    """The public key of this generation's key pair, made (and stored) the first time."""
    secrets = aws.client("secretsmanager")
    current = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        stored = json.loads(current)
    except ValueError:
        stored = {}  # the placeholder CloudFormation generated with the secret
    if isinstance(stored, dict) and stored.get("generation") == generation:
        return signing.public_key_of(stored["privateKey"])
    private, public = signing.generate_key_pair()
    secrets.put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps({"generation": generation, "privateKey": private}),
    )
    return public


def handle(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    props = event["ResourceProperties"]
    physical = f"share-signing-key-{props['Generation']}"
    if event["RequestType"] == "Delete":
        return event.get("PhysicalResourceId", physical), {}
    return physical, {"PublicKey": key_pair(props["SecretId"], str(props["Generation"]))}


def on_event(event: dict[str, Any], context: Any = None) -> None:
    status, reason, physical, data = "SUCCESS", "", event.get("PhysicalResourceId", ""), {}
    try:
        physical, data = handle(event)
    except Exception as err:  # CloudFormation must hear back either way, or it waits an hour
        logger.exception("signing key custom resource failed")
        status, reason = "FAILED", f"{type(err).__name__}: {err}"[:500]
    answer = {
        "Status": status,
        "Reason": reason or "done",
        "PhysicalResourceId": physical or "share-signing-key",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    body = json.dumps(answer).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
