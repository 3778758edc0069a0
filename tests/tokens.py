"""Tokens shaped and signed like Cognito user pool tokens, for tests and the local runtime.

A pool has one RSA key published as a JWKS (what `https://cognito-idp.<region>.amazonaws.com/
<pool id>/.well-known/jwks.json` serves); `mint` signs ID or access tokens with it, or with a
stranger's key (forged), already expired, or for another app client.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

REGION = "us-west-2"
POOL_ID = f"{REGION}_TestPool1"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
CLIENT_ID = "testclient0123456789abcdef"


@cache
def _rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


@dataclass
class CognitoPool:
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    kid: str = "test-key-1"
    key: RSAKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = _rsa_key(self.kid)

    @property
    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    def mint(
        self,
        sub: str,
        token_use: str = "id",
        expires_in: int = 3600,
        client_id: str | None = None,
        issuer: str | None = None,
        signing_key: RSAKey | None = None,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": issuer or self.issuer,
            "token_use": token_use,
            "auth_time": now,
            "iat": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
        }
        if token_use == "id":
            claims |= {
                "aud": client_id or self.client_id,
                "email": f"{sub[:8]}@example.com",
                "email_verified": True,
                "cognito:username": sub,
            }
        else:
            claims |= {
                "client_id": client_id or self.client_id,
                "scope": "aws.cognito.signin.user.admin",
                "username": sub,
            }
        claims |= extra
        key = signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


def stranger_key(kid: str = "test-key-1") -> RSAKey:
    """Another key pair claiming the pool's `kid`: what a forger would sign with."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})
