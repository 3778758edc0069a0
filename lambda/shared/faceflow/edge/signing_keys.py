"""The signing-key custom resource's work: the public key of a generation's key pair, made (and
its private half stored in the generation's secret) the first time it is asked for."""

from __future__ import annotations

import json
from typing import Any

from faceflow.domain import signing
from faceflow.storage import signing_keys


def key_pair(secret_id: str, generation: str) -> str:
    """The public key of this generation's key pair, made (and stored) the first time."""
    try:
        stored = json.loads(signing_keys.read_secret(secret_id))
    except ValueError:
        stored = {}  # the placeholder CloudFormation generated with the secret
    if isinstance(stored, dict) and stored.get("generation") == generation:
        return signing.public_key_of(stored["privateKey"])
    private, public = signing.generate_key_pair()
    signing_keys.write_key_pair(secret_id, generation, private)
    return public


def handle(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(physical id, data) of a Create, Update or Delete: Create and Update keep the key the
    secret already holds for this generation; Delete does nothing (the secret is the stack's)."""
    props = event["ResourceProperties"]
    physical = f"share-signing-key-{props['Generation']}"
    if event["RequestType"] == "Delete":
        return event.get("PhysicalResourceId", physical), {}
    return physical, {"PublicKey": key_pair(props["SecretId"], str(props["Generation"]))}
