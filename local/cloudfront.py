"""The local CloudFront: the templates' distribution (an S3 origin behind origin access control,
trusted key groups) served on a port of its own, checking signed URLs as CloudFront does before
it reads the object from the origin bucket in moto.

From the templates: `AWS::CloudFront::Distribution` (its first S3 origin, OriginPath, the default
behaviour's TrustedKeyGroups and allowed methods), `AWS::CloudFront::KeyGroup` (its public
keys) and `AWS::CloudFront::PublicKey` (EncodedKey, often an attribute of the signing-key custom
resource, which the local runtime runs first: local.custom_resources). The public key's id is its
`Ref`, which is what the functions' environment names as the key pair id.

A request to a behaviour with trusted key groups must carry `Key-Pair-Id` and `Signature` and
either `Expires` (canned policy: CloudFront rebuilds the policy from the URL) or `Policy` (custom:
`Resource` with `*` and `?` wildcards, `DateLessThan`, optional `DateGreaterThan` and
`IpAddress`). The signature is RSA PKCS#1 v1.5 over the policy, SHA-1 unless `Hash-Algorithm=
SHA256`. Anything missing, unknown, altered or out of its time is `403` with CloudFront's XML
error body; so is an object the origin does not have (S3 answers 403 to OAC without ListBucket).
The signing parameters are not forwarded to the origin (caching disabled forwards no query).
"""

from __future__ import annotations

import base64
import fnmatch
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.httpd import lower_headers, status_line
from local.topology import DistributionSpec

log = logging.getLogger("local.cloudfront")
_SIGNING_PARAMS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
_URL_TO_B64 = str.maketrans("-_~", "+=/")
_PASSED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Disposition",
    "ETag",
    "Last-Modified",
    "Accept-Ranges",
    "Content-Range",
)


class Refused(Exception):
    def __init__(self, message: str, status: int = 403, code: str = "AccessDenied"):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_xml(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()


def render_error(status: int, detail: str) -> tuple[str, bytes]:
    return "text/xml", error_xml("InvalidRequest", detail.split("\n")[0][:200])


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.translate(_URL_TO_B64), validate=True)
    except ValueError:
        raise Refused("Access denied") from None


def _verify(pem: str, signature: bytes, message: bytes, algorithm: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    key = serialization.load_pem_public_key(pem.encode())
    digest = hashes.SHA256() if algorithm == "SHA256" else hashes.SHA1()  # CloudFront's default
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(digest))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def check_signed(
    url: str,
    query: list[tuple[str, str]],
    keys: dict[str, str],
    now: float,
    client_ip: str = "127.0.0.1",
) -> None:
    """Raises Refused unless the query signs `url` (scheme://host/path?other-params) now."""
    params = dict(query)
    if "Key-Pair-Id" not in params:
        raise Refused("Missing Key-Pair-Id query parameter or cookie value")
    if "Signature" not in params or not ("Expires" in params or "Policy" in params):
        raise Refused("Missing Signature and Expires or Policy query parameters")
    pem = keys.get(params["Key-Pair-Id"])
    if pem is None:
        raise Refused("Unknown Key")
    algorithm = params.get("Hash-Algorithm", "SHA1")
    if algorithm not in ("SHA1", "SHA256"):
        raise Refused("Invalid Hash-Algorithm")
    if "Policy" in params:
        policy_bytes = _b64(params["Policy"])
        try:
            (statement,) = json.loads(policy_bytes)["Statement"]
            condition = statement["Condition"]
            resource = statement.get("Resource", "*")
            until = int(condition["DateLessThan"]["AWS:EpochTime"])
        except (ValueError, KeyError, TypeError):
            raise Refused("Malformed Policy") from None
    else:
        try:
            until = int(params["Expires"])
        except ValueError:
            raise Refused("Access denied") from None
        resource, condition = url, {}
        policy_bytes = json.dumps(
            {
                "Statement": [
                    {"Resource": url, "Condition": {"DateLessThan": {"AWS:EpochTime": until}}}
                ]
            },
            separators=(",", ":"),
        ).encode()
    if not _verify(pem, _b64(params["Signature"]), policy_bytes, algorithm):
        raise Refused("Access denied")
    # Checked after the signature, as CloudFront does: a forged expiry is a bad signature.
    if now >= until:
        raise Refused("Access denied")
    since = condition.get("DateGreaterThan", {}).get("AWS:EpochTime")
    if since is not None and now < int(since):
        raise Refused("Access denied")
    source = condition.get("IpAddress", {}).get("AWS:SourceIp")
    if source and ipaddress.ip_address(client_ip) not in ipaddress.ip_network(source, False):
        raise Refused("Access denied")
    if not fnmatch.fnmatchcase(url, resource):  # `*` any run, `?` one character
        raise Refused("Access denied")


class CloudFrontFront:
    """The WSGI app of one distribution. `keys()` gives the trusted public keys (resolved after
    the custom resources ran); `s3` is a client of the origin (moto)."""

    def __init__(
        self,
        spec: DistributionSpec,
        s3: Any,
        keys: Callable[[], dict[str, str]],
        clock: Callable[[], float] = time.time,
    ):
        self.spec, self.s3, self.keys, self.clock = spec, s3, keys, clock

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        path, _, query_string = raw.partition("?")
        query = parse_qsl(query_string, keep_blank_values=True)
        headers = lower_headers(environ)
        try:
            if method not in self.spec.methods:
                raise Refused(
                    "This distribution is not configured to allow the HTTP request "
                    "method that was used for this request.",
                    403,
                    "MethodNotAllowed",
                )
            kept = [f"{k}={v}" for k, v in query if k not in _SIGNING_PARAMS]
            url = f"{environ.get('wsgi.url_scheme', 'http')}://{headers.get('host', '')}{path}"
            if kept:
                url += "?" + "&".join(kept)
            if self.spec.key_group is not None:
                check_signed(url, query, self.keys(), self.clock(), environ.get("REMOTE_ADDR", ""))
            return self._origin(method, path, headers, start_response)
        except Refused as err:
            body = error_xml(err.code, err.message)
            start_response(
                status_line(err.status),
                [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))],
            )
            return [b"" if method == "HEAD" else body]

    def _origin(
        self, method: str, path: str, headers: dict[str, str], start_response: Callable
    ) -> Iterable[bytes]:
        from botocore.exceptions import ClientError

        key = (self.spec.origin_path.strip("/") + "/" if self.spec.origin_path else "") + unquote(
            path.lstrip("/")
        )
        kwargs: dict[str, Any] = {"Bucket": self.spec.bucket, "Key": key}
        if headers.get("range"):
            kwargs["Range"] = headers["range"]
        try:
            answer = (self.s3.head_object if method == "HEAD" else self.s3.get_object)(**kwargs)
        except ClientError:
            raise Refused("Access Denied") from None  # OAC without s3:ListBucket: 403, not 404
        meta = answer["ResponseMetadata"]["HTTPHeaders"]
        out = [(h, meta[h.lower()]) for h in _PASSED_HEADERS if h.lower() in meta]
        out.append(("Cache-Control", "no-store"))
        out.append(("X-Cache", "Miss from cloudfront"))
        status = 206 if "content-range" in meta else 200
        start_response(status_line(status), out)
        if method == "HEAD":
            return [b""]
        return answer["Body"].iter_chunks(1024 * 1024)
