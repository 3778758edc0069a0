"""The one HTTP port of the local backend: the API (as API Gateway serves it, under its stage),
the web page, /config.json, and a local-only sign-up/sign-in helper.

Presigned S3 URLs point at the local AWS (moto) directly: moto's server answers CORS, so the
browser uploads and downloads there as it would to S3.
"""

from __future__ import annotations

import errno
import json
import logging
import mimetypes
import socket
import urllib.request
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from local.runtime import LocalBackend

log = logging.getLogger("local.http")
WEB = Path(__file__).resolve().parent / "web"
MAX_BODY = 1024 * 1024  # API bodies are small JSON; uploads go to S3, not here


class PortBusy(OSError):
    pass


def build_gateway(backend: LocalBackend) -> Any:
    """`local.apigw.ApiGateway` over the template's routes, each calling its function's workers."""
    from local.apigw import ApiGateway, CognitoTokenVerifier, Route

    api = backend.api
    if api is None:
        return None
    pool = backend.user_pools[0]
    with urllib.request.urlopen(f"{backend.aws_url}/{pool.pool_id}/.well-known/jwks.json") as r:
        jwks = json.load(r)
    verifier = CognitoTokenVerifier(
        jwks,
        issuer=f"https://cognito-idp.{backend.region}.amazonaws.com/{pool.pool_id}",
        client_id=pool.client_ids[0],
    )

    def handler_of(ref):
        return lambda event, _context: backend.invoke(ref, event)

    routes = [Route(r.method, r.path, handler_of(r.function)) for r in api.routes]
    return ApiGateway(routes, verifier, stage=api.stage)


class LocalAuth:
    """Local-only helper for the web page: the app client allows SRP only, which needs a large
    client library; here the server signs up (SignUp + AdminConfirmSignUp) and signs in
    (AdminInitiateAuth) against the local Cognito on the page's behalf."""

    def __init__(self, backend: LocalBackend):
        self.idp = backend.client("cognito-idp")
        pool = backend.user_pools[0]
        self.pool_id = pool.pool_id
        self.client_id = pool.client_ids[0]

    def sign_up(self, email: str, password: str) -> dict[str, Any]:
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
        return self.sign_in(email, password)

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


def _handler_class(backend: LocalBackend, gateway: Any, auth: LocalAuth | None):
    stage_prefix = f"/{backend.api.stage}" if backend.api else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stall
        server_version = "StyleLocal"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self._send(status, {"Content-Type": "application/json"}, data)

        def _error(self, status: int, code: str, message: str) -> None:
            self._json(status, {"error": {"code": code, "message": message}})

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._error(
                    413, "BODY_TOO_LARGE", f"request bodies are limited to {MAX_BODY} bytes"
                )
                return None
            return self.rfile.read(length) if length else b""

        def _dispatch(self) -> None:
            path = self.path.split("?", 1)[0]
            body = self._body()
            if body is None:
                return
            if stage_prefix and (path == stage_prefix or path.startswith(stage_prefix + "/")):
                self._api(body)
            elif path == "/config.json" and self.command == "GET":
                self._json(200, asdict(backend.client_config()))
            elif path.startswith("/local/auth/") and self.command == "POST":
                self._auth(path.removeprefix("/local/auth/"), body)
            elif self.command in ("GET", "HEAD"):
                self._static(path)
            else:
                self._error(404, "NOT_FOUND", f"nothing at {self.command} {path}")

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _dispatch

        def _api(self, body: bytes) -> None:
            if gateway is None:
                self._error(503, "API_UNAVAILABLE", "local/apigw.py is not available")
                return
            path = self.path[len(stage_prefix) :] or "/"
            status, headers, data = gateway.handle(
                self.command, path, list(self.headers.items()), body or None, self.client_address[0]
            )
            self._send(status, headers, data)

        def _auth(self, action: str, body: bytes) -> None:
            if auth is None:
                self._error(404, "NOT_FOUND", "no user pool in the templates")
                return
            try:
                request = json.loads(body or b"{}")
                email, password = str(request["email"]), str(request["password"])
            except (ValueError, KeyError, TypeError):
                self._error(400, "BAD_REQUEST", 'send {"email": …, "password": …}')
                return
            try:
                if action == "signup":
                    self._json(200, auth.sign_up(email, password))
                elif action == "signin":
                    self._json(200, auth.sign_in(email, password))
                else:
                    self._error(404, "NOT_FOUND", f"no auth action {action!r}")
            except ClientError as err:
                e = err.response["Error"]
                self._error(400, e.get("Code", "CognitoError"), e.get("Message", str(err)))

        def _static(self, path: str) -> None:
            name = "index.html" if path in ("/", "") else path.lstrip("/")
            target = (WEB / name).resolve()
            if WEB not in target.parents or not target.is_file():
                self._error(404, "NOT_FOUND", f"nothing at {path}")
                return
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self._send(
                200, {"Content-Type": kind, "Cache-Control": "no-cache"}, target.read_bytes()
            )

    return Handler


def _busy(host: str, port: int, err: OSError) -> PortBusy:
    return PortBusy(
        err.errno,
        f"port {port} on {host} is in use: stop what holds it or choose another port "
        f"(PORT=8001 make up)",
    )


def check_port(host: str, port: int) -> None:
    """Raise PortBusy now if the port cannot be bound (the server binds it again later)."""
    with socket.socket() as s:
        # As the server will: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise _busy(host, port, err) from err
            raise


def serve(backend: LocalBackend) -> ThreadingHTTPServer:
    try:
        gateway = build_gateway(backend)
    except ImportError as err:
        log.warning("API not served: %s", err)
        gateway = None
    auth = LocalAuth(backend) if backend.user_pools and backend.user_pools[0].client_ids else None
    try:
        server = ThreadingHTTPServer(
            (backend.host, backend.port), _handler_class(backend, gateway, auth)
        )
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise _busy(backend.host, backend.port, err) from err
        raise
    server.daemon_threads = True
    if backend.port == 0:
        backend.port = server.server_address[1]
    return server
