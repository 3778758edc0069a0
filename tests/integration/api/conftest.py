"""The API against moto: bucket and tables created as docs/architecture.md describes them,
handlers behind the local API Gateway emulation, callers holding Cognito-like tokens."""

from __future__ import annotations

import functools
import io
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from common import aws as aws_clients
from local.apigw import ApiGateway, CognitoTokenVerifier, routes_from_specs
from local.photos import astronaut
from style_backend.domain.styles import StyleSource
from style_backend.edge.seeding import seed_styles
from tests.album_resources import ENV as ALBUM_ENV
from tests.album_resources import create_album_resources, empty_album_resources
from tests.share_resources import ENV as SHARE_ENV
from tests.share_resources import create_share_resources
from tests.tables import TABLES, create_tables, table_name
from tests.tokens import CLIENT_ID, ISSUER, CognitoPool

BUCKET = "style-base-test"
TERMS = "2026-11-01"
ENV = {
    "BUCKET_NAME": BUCKET,
    "PROCESS_TABLE": "Process",
    "DISPLAY_TABLE": "Display",
    "DISPLAY_HISTORY_TABLE": "DisplayHistory",
    "BASE_RESOURCE_TABLE": "BaseResource",
    "USER_AGREEMENT_TABLE": "UserAgreement",
    "TERMS_VERSION": TERMS,
    "MAX_UPLOAD_BYTES": str(10 * 1024 * 1024),
    "UPLOAD_URL_EXPIRY_SECONDS": "300",
    "RESULT_URL_EXPIRY_SECONDS": "900",
    "PROCESS_TTL_DAYS": "30",
    "DISPLAY_HISTORY_TTL_DAYS": "90",
}


@pytest.fixture(scope="package")
def _moto():
    """One moto backend for the API tests (starting one costs ~1 s); `aws` empties it after
    each test. Package scope: the mock ends with this folder and never leaks into other tests."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in ENV.items():
            env.setenv(name, value)
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        create_tables(boto3.client("dynamodb"))
        # FaceFlow albums: the album routes and the user erasure reach them.
        for name, value in ALBUM_ENV.items():
            env.setenv(name, value)
        create_album_resources(boto3.client("s3"), boto3.client("dynamodb"))
        # FaceFlow sharing: the share routes queue exports and sign URLs.
        for name, value in SHARE_ENV.items():
            env.setenv(name, value)
        clients = (boto3.client(s) for s in ("sqs", "ses", "secretsmanager"))
        create_share_resources(*clients, env)
        # Destructive routes ask Cognito whether the caller's account still exists.
        pool_id = boto3.client("cognito-idp").create_user_pool(PoolName="users")["UserPool"]["Id"]
        env.setenv("USER_POOL_ID", pool_id)
        aws_clients.reset()
        yield
        aws_clients.reset()


@pytest.fixture(autouse=True)
def _fresh_boto_clients(_moto):
    """Overrides the suite-wide reset: every test here runs under the same mock, so the cached
    clients stay valid, and creating them again per test cost ~0.5 s."""
    yield


@pytest.fixture
def aws(_moto):
    """The bucket and the five tables, empty at the start of each test."""
    yield
    s3 = boto3.resource("s3")
    s3.Bucket(BUCKET).objects.all().delete()
    ddb = boto3.resource("dynamodb")
    empty_album_resources(s3, ddb)
    for construct_id, (key_schema, *_) in TABLES.items():
        table = ddb.Table(table_name(construct_id))
        with table.batch_writer() as batch:
            for item in table.scan()["Items"]:
                batch.delete_item(Key={k: item[k] for k, _ in key_schema})


@pytest.fixture(scope="session")
def pool() -> CognitoPool:
    return CognitoPool()


@pytest.fixture(scope="session")
def gateway(pool) -> ApiGateway:
    return ApiGateway(routes_from_specs(), CognitoTokenVerifier(pool.jwks, ISSUER, CLIENT_ID))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def error_code(self) -> str:
        return self.json["error"]["code"]


@dataclass
class Client:
    gateway: ApiGateway
    pool: CognitoPool

    def call(
        self,
        method: str,
        path: str,
        user: str | None = None,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"User-Agent": "pytest-client/1.0", **(headers or {})}
        if token is None and user is not None:
            token = self.pool.mint(user)
        if token is not None:
            sent["Authorization"] = token
        data = body
        if body is not None and not isinstance(body, str | bytes):
            data = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        return Reply(*self.gateway.handle(method, path, sent, data))


@pytest.fixture
def api(aws, gateway, pool) -> Client:
    return Client(gateway, pool)


def register(user: str) -> str:
    """A user of the pool whose username is `user`, as the email-signing pool names them."""
    boto3.client("cognito-idp").admin_create_user(
        UserPoolId=os.environ["USER_POOL_ID"], Username=user, MessageAction="SUPPRESS"
    )
    return user


def new_user() -> str:
    return register(str(uuid.uuid4()))  # a Cognito sub: hyphens included


@functools.cache
def style_png(shift: int = 0) -> bytes:
    """A head-and-shoulders cut of a real photo, enlarged 2× as PNG (seeding re-encodes it to
    JPEG, and checks its face: one, ~94 px between the eyes, frontal); `shift` moves the cut."""
    out = io.BytesIO()
    region = (90 + shift, shift // 2, 346 + shift, 320 + shift // 2)
    Image.fromarray(astronaut()).crop(region).resize((512, 640), Image.Resampling.LANCZOS).save(
        out, "PNG"
    )
    return out.getvalue()


STYLES = [
    ("street-f-light", "street", "female", "light", True),
    ("office-f-light", "office", "female", "light", True),
    ("retro-m-dark", "retro", "male", "dark", True),
    ("gala-f-medium", "gala", "female", "medium", True),
    ("winter-m-light", "winter", "male", "light", True),
    ("retired-f-light", "retired", "female", "light", False),
]


@pytest.fixture
def styles(aws, tmp_path: Path) -> list[dict[str, Any]]:
    """Seeded base resources, images cut from a real photo; one of them inactive."""
    sources = []
    for i, (rid, theme, gender, tone, active) in enumerate(STYLES):
        path = tmp_path / f"{rid}.png"
        path.write_bytes(style_png(i * 8))
        sources.append(StyleSource(rid, path, theme, gender, tone, active))
    return seed_styles(sources)


@pytest.fixture
def agreed(api):
    """A user who accepted the current terms."""
    user = new_user()
    assert api.call("POST", "/agree", user, {"termsVersion": TERMS}).status == 201
    return user
