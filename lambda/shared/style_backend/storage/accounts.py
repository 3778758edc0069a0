"""The caller's account in the Cognito user pool, checked where a request destroys data.

API Gateway's Cognito authorizer verifies a token's signature and expiry only: a token of a user
deleted or disabled since it was issued keeps working until it expires (Cognito's ID tokens
cannot be revoked at all; global sign-out revokes refresh and access tokens). Destructive routes
therefore ask Cognito whether the account still exists and is enabled (AdminGetUser on the one
pool: the only grant this needs). A globally signed-out user's ID token is not detectable this
way; the short token validity (`token_validity_minutes`) bounds that window.
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError

from common import aws
from style_backend import config
from style_backend.config import EnvVar
from style_backend.domain.errors import InactiveAccount


def username_of(claims: Mapping[str, str]) -> str:
    """The pool's username for these claims: `cognito:username` (ID token) or `username`
    (access token). The pool signs in by email, so usernames are the immutable `sub`: a name
    is never given to a later account."""
    return claims.get("cognito:username") or claims.get("username") or claims["sub"]


def require_active(claims: Mapping[str, str]) -> None:
    """Raise InactiveAccount unless the caller's account exists and is enabled."""
    try:
        user = aws.client("cognito-idp").admin_get_user(
            UserPoolId=config.get(EnvVar.USER_POOL_ID), Username=username_of(claims)
        )
    except ClientError as err:
        if err.response["Error"]["Code"] == "UserNotFoundException":
            raise InactiveAccount("This account no longer exists.") from None
        raise
    if not user.get("Enabled", True):
        raise InactiveAccount("This account is disabled.")
