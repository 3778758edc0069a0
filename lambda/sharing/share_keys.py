"""The signing-key custom resource (Custom::ShareSigningKey), one per key generation: at deploy
time it makes the RSA key pair, writes the private key into the generation's secret and answers
the public key (faceflow.edge.signing_keys), which the stack registers as a CloudFront public key
of the key group.

CloudFormation invokes this function directly (no provider framework) and reads the answer from
the presigned ResponseURL, as for any Lambda-backed custom resource. Create and Update keep the
key the secret already holds for this generation (a re-run, a code change, a stack update never
changes a key); Delete does nothing (the secret is the stack's and goes with it).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from common.observability import lambda_entry, logger
from faceflow.edge.signing_keys import handle


@lambda_entry()
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
