"""The share signing key in Secrets Manager: the deployment's URL signer (the key read once per
SECRET_CACHE_S), and the key pair of a generation written by the signing-key custom resource."""

from __future__ import annotations

import json
import os
import threading
import time

from common import aws
from faceflow.config import AlbumEnv, get
from faceflow.domain.signing import UrlSigner

SECRET_CACHE_S = 300  # a rotated secret is read again within five minutes

_cache: dict[str, tuple[float, UrlSigner]] = {}
_lock = threading.Lock()


def reset() -> None:
    """Forget the cached signer (tests make a new key pair per case)."""
    with _lock:
        _cache.clear()


def signer() -> UrlSigner:
    """The signer of this deployment: the key pair id and secret of the signing generation, the
    distribution's domain. The secret is read once per SECRET_CACHE_S."""
    secret_id = get(AlbumEnv.SHARE_SIGNING_SECRET)
    with _lock:
        cached = _cache.get(secret_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    value = json.loads(read_secret(secret_id))
    made = UrlSigner(
        get(AlbumEnv.SHARE_KEY_PAIR_ID),
        value["privateKey"],
        get(AlbumEnv.SHARE_DOMAIN),
        os.environ.get(AlbumEnv.SHARE_URL_SCHEME.value) or "https",
    )
    with _lock:
        _cache[secret_id] = (time.monotonic() + SECRET_CACHE_S, made)
    return made


def read_secret(secret_id: str) -> str:
    return aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def write_key_pair(secret_id: str, generation: str, private_pem: str) -> None:
    aws.client("secretsmanager").put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps({"generation": generation, "privateKey": private_pem}),
    )
