"""Cognito ID tokens verified in a function, for the one door API Gateway's Cognito authorizer
does not guard: the WebSocket API's `$connect` (the token comes in the query string).

What is checked is what the REST API's authorizer checks: an RS256 signature by the key of the
user pool's JWKS that the header's `kid` names, not expired, the pool's issuer, an ID token, for
the app client (`aud`), a subject. The JWKS is fetched once per process from the pool's
`/.well-known/jwks.json` on the Cognito endpoint boto3 resolves (so AWS_ENDPOINT_URL applies),
and again when a token names a key it does not hold (Cognito rotated its keys).
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from common import aws

JWKS_TIMEOUT_S = 5


class Unauthorized(Exception):
    """The token is missing or fails verification (the reason is logged, never sent)."""


def issuer(pool_id: str) -> str:
    region = pool_id.split("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def _fetch_jwks(pool_id: str) -> dict[str, Any]:
    base = aws.client("cognito-idp").meta.endpoint_url.rstrip("/")
    # An https URL boto3 resolved for the service, never a URL from the token.
    with urllib.request.urlopen(
        f"{base}/{pool_id}/.well-known/jwks.json", timeout=JWKS_TIMEOUT_S
    ) as answer:
        return json.load(answer)


# pool id → (its keys, when they were read): read again for an unknown kid, at most this often,
# so that tokens naming made-up keys cannot make every connect fetch the JWKS.
_KEYS: dict[str, tuple[KeySet, float]] = {}
REFETCH_AFTER_S = 300


def _keys(pool_id: str, unknown_kid: bool = False) -> KeySet:
    held = _KEYS.get(pool_id)
    if held is None or (unknown_kid and time.monotonic() - held[1] > REFETCH_AFTER_S):
        held = (KeySet.import_key_set(_fetch_jwks(pool_id)), time.monotonic())
        _KEYS[pool_id] = held
    return held[0]


def _decode(token: str, pool_id: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, _keys(pool_id), algorithms=["RS256"]).claims
    except InvalidKeyIdError:
        pass  # perhaps Cognito rotated its keys: read them again (not too often)
    except (JoseError, ValueError) as err:
        raise Unauthorized(f"bad token: {type(err).__name__}") from err
    try:
        return jwt.decode(token, _keys(pool_id, unknown_kid=True), algorithms=["RS256"]).claims
    except (JoseError, ValueError) as err:
        raise Unauthorized(f"bad token: {type(err).__name__}") from err


def verify_id_token(
    token: str, pool_id: str, client_id: str, now: float | None = None
) -> dict[str, Any]:
    """The token's claims, or Unauthorized."""
    if token.count(".") != 2:
        raise Unauthorized("not a JWT")
    claims = _decode(token, pool_id)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= (now if now is not None else time.time()):
        raise Unauthorized("expired")
    if claims.get("iss") != issuer(pool_id):
        raise Unauthorized("wrong issuer")
    if claims.get("token_use") != "id":
        raise Unauthorized("not an ID token")
    if claims.get("aud") != client_id:
        raise Unauthorized("issued for another app client")
    if not claims.get("sub"):
        raise Unauthorized("no subject")
    return claims
