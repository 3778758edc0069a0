"""Latency of each API route through the local API Gateway emulation, against in-process moto.

    .venv/bin/python benchmarks/bench_api.py [--runs 40]

Prints the median and p90 per route (ms), and the share of the median spent verifying the token.
moto answers in-process, so the figures are our own cost (routing, token, validation, boto3
serialization, presigning) plus moto's, not DynamoDB's or S3's network latency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "shared"), str(ROOT / "lambda" / "apis")]
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
os.environ.update(AWS_DEFAULT_REGION="us-west-2")
for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[var]


def _timed(call, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs

    import boto3
    from moto import mock_aws

    from local.apigw import ApiGateway, CognitoTokenVerifier, routes_from_specs
    from style_backend.edge import images  # noqa: F401  (warm import)
    from style_backend.storage import keys
    from style_backend.storage.processes import ProcessStore
    from tests.integration.api.conftest import ENV, TERMS
    from tests.tables import create_tables
    from tests.tokens import CLIENT_ID, ISSUER, CognitoPool

    os.environ.update(ENV)
    pool = CognitoPool()
    verifier = CognitoTokenVerifier(pool.jwks, ISSUER, CLIENT_ID)
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=ENV["BUCKET_NAME"], CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        create_tables(boto3.client("dynamodb"))
        gateway = ApiGateway(routes_from_specs(), verifier)
        user = str(uuid.uuid4())
        token = pool.mint(user)
        auth = {"Authorization": token, "Content-Type": "application/json"}
        base = boto3.resource("dynamodb").Table("BaseResource")
        for i in range(5):
            rid = f"style-{i}"
            style = {"theme": "t", "gender": "g", "skinTone": "s", "styleKey": "t#g#s"}
            base.put_item(
                Item={"resourceId": rid, "imageKey": keys.base_key(rid), "active": True, **style}
            )
        display = boto3.resource("dynamodb").Table("Display")
        for i in range(40):
            created, process_id = f"2026-11-01T00:{i:02d}:00.000Z", f"p{i}"
            display.put_item(
                Item={
                    "userId": user,
                    "resultId": f"{created}#{process_id}#style-0",
                    "processId": process_id,
                    "resourceId": "style-0",
                    "resultKey": keys.result_key(user, process_id, "style-0"),
                    "createdAt": created,
                }
            )
        gateway.handle("POST", "/agree", auth, json.dumps({"termsVersion": TERMS}))
        pid = ProcessStore().create(
            user, ["style-0"], lambda p: keys.upload_key(user, p, "image/jpeg"), 30
        )["processId"]
        upload = json.dumps({"contentType": "image/jpeg", "resourceIds": ["style-0", "style-1"]})
        calls = {
            "token verification only": lambda: verifier.verify(token),
            "GET /agree": lambda: gateway.handle("GET", "/agree", auth),
            "GET /apis/styles (5)": lambda: gateway.handle("GET", "/apis/styles", auth),
            "POST /apis/images/upload": lambda: gateway.handle(
                "POST", "/apis/images/upload", auth, upload
            ),
            "GET progress": lambda: gateway.handle(
                "GET", f"/apis/images/{user}/processes/{pid}", auth
            ),
            "GET /apis/images (20 of 40)": lambda: gateway.handle(
                "GET", f"/apis/images/{user}", auth
            ),
        }
        for call in calls.values():  # warm caches (clients, imports) before timing
            call()
        print(f"runs per route: {runs}")
        print(f"{'route':32} {'median ms':>10} {'p90 ms':>8} {'token share':>12}")
        token_median = None
        for name, call in calls.items():
            samples = sorted(_timed(call, runs))
            median = statistics.median(samples)
            p90 = samples[int(0.9 * (len(samples) - 1))]
            if token_median is None:
                token_median = median
                share = ""
            else:
                share = f"{token_median / median:.0%}"
            print(f"{name:32} {median:10.2f} {p90:8.2f} {share:>12}")


if __name__ == "__main__":
    main()
