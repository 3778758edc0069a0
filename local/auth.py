"""`/local/auth/{signup,signin}`: local-only sign-up and sign-in for the web page.

The app client allows SRP only, which needs a large client library; here the server signs up
(SignUp + AdminConfirmSignUp) and signs in (AdminInitiateAuth) against the local Cognito on the
page's behalf. It listens on 127.0.0.1, but any page open in a browser on the machine can reach
it, so it answers only its own page and guards itself as Cognito's hosted endpoints do:

- a request with a foreign `Origin` (or `Sec-Fetch-Site: cross-site`) is refused, and the body must
  be JSON: a cross-origin `text/plain` form post, which needs no CORS preflight, never gets in;
- attempts are rate-limited per client address, and failed sign-ins per email;
- a failed sign-in answers the same whether the email is registered or not.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

SIGN_IN_FAILED = ("NotAuthorizedException", "Incorrect username or password.")
# Cognito's sign-in errors that would tell a registered email from an unknown one.
_SIGN_IN_ERRORS = {"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"}
# Sign-up errors whose message is Cognito's own rule (password policy, a taken name), safe to show.
_SIGN_UP_ERRORS = {
    "UsernameExistsException",
    "InvalidPasswordException",
    "InvalidParameterException",
}


@dataclass(frozen=True)
class AuthAnswer:
    status: int
    body: dict[str, Any]


def _error(status: int, code: str, message: str) -> AuthAnswer:
    return AuthAnswer(status, {"error": {"code": code, "message": message}})


class SlidingWindow:
    """At most `limit` events per `window_s` seconds per key."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        events = self._events.setdefault(key, deque())
        cutoff = self.clock() - self.window_s
        while events and events[0] <= cutoff:
            events.popleft()
        return events

    def full(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key)) >= self.limit

    def add(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())


class LocalAuth:
    # Generous for a person (and the e2e tests' hundreds of sign-ups), fatal to a password sprayer.
    REQUESTS_PER_ADDRESS = (100, 10.0)
    FAILED_SIGN_INS_PER_EMAIL = (5, 60.0)

    def __init__(self, idp: Any, pool_id: str, client_id: str, origins: Iterable[str]):
        self.idp = idp
        self.pool_id = pool_id
        self.client_id = client_id
        self.origins = frozenset(o.rstrip("/") for o in origins)
        self.per_address = SlidingWindow(*self.REQUESTS_PER_ADDRESS)
        self.failures = SlidingWindow(*self.FAILED_SIGN_INS_PER_EMAIL)

    def handle(
        self, action: str, headers: dict[str, str], body: bytes, client_address: str
    ) -> AuthAnswer:
        """`headers` with lower-case names."""
        origin = headers.get("origin")
        if (origin and origin.rstrip("/") not in self.origins) or headers.get(
            "sec-fetch-site"
        ) == "cross-site":
            return _error(403, "FORBIDDEN", "cross-origin requests are refused")
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "UNSUPPORTED_MEDIA_TYPE", "send application/json")
        if action not in ("signup", "signin"):
            return _error(404, "NOT_FOUND", "no such auth action")
        if self.per_address.full(client_address):
            return _error(429, "TOO_MANY_REQUESTS", "Too many requests: try again shortly")
        self.per_address.add(client_address)
        try:
            request = json.loads(body or b"{}")
            email, password = str(request["email"]), str(request["password"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BAD_REQUEST", 'send {"email": …, "password": …}')
        key = email.strip().lower()
        if self.failures.full(key):
            return _error(429, "TOO_MANY_REQUESTS", "Too many failed sign-ins: try again later")
        try:
            if action == "signup":
                self.sign_up(email, password)
            return AuthAnswer(200, self.sign_in(email, password))
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if action == "signup" and code in _SIGN_UP_ERRORS:
                return _error(400, code, err.response["Error"].get("Message", code))
            if code in _SIGN_IN_ERRORS or action == "signin":
                self.failures.add(key)
                return _error(400, *SIGN_IN_FAILED)
            return _error(400, "SIGN_UP_FAILED", "the sign-up was refused")

    def sign_up(self, email: str, password: str) -> None:
        self.idp.sign_up(
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        self.idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        self.idp.admin_update_user_attributes(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        )

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        result = self.idp.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        return {
            "idToken": result["IdToken"],
            "accessToken": result["AccessToken"],
            "expiresIn": result.get("ExpiresIn", 3600),
        }
