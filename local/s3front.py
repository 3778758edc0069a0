"""The local S3 front: what S3 itself checks, in front of moto (which checks none of it).

Every S3 request of the local runtime comes here: the functions' own calls (their
`AWS_ENDPOINT_URL_S3` is this front) and so the presigned URLs and POST forms they hand out,
because botocore presigns against the endpoint it is given. A request is forwarded to moto only
once it passes what S3 would check:

- SigV4 in the `Authorization` header or in the query (presigned URLs): the signature is
  recomputed with botocore's own signer (canonical request, string to sign, signing key) at the
  request's own `X-Amz-Date` and compared; a presigned URL past `X-Amz-Expires` is refused; an
  `x-amz-*` header the signature does not cover is refused (but `x-amz-content-sha256`);
- a browser POST form: the policy's signature, its expiration, and every condition (`bucket`,
  `key`, `Content-Type`, `content-length-range`, `eq` / `starts-with`), with no form field the
  policy does not name;
- anything unsigned but a CORS preflight is refused, as S3 refuses it for a private bucket.

Refusals are S3's XML errors with S3's codes and statuses (403 AccessDenied /
SignatureDoesNotMatch, 400 EntityTooLarge, …).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.httpd import lower_headers, status_line

log = logging.getLogger("local.s3front")
ALGORITHM = "AWS4-HMAC-SHA256"
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
MAX_SKEW_S = 15 * 60  # S3's RequestTimeTooSkewed
MAX_EXPIRES_S = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# The one `x-amz-*` header S3 takes unsigned (SDKs add it to requests on presigned URLs): the
# payload's hash, which the body must match, signed or not.
_UNSIGNED_AMZ_HEADERS = {"x-amz-content-sha256"}
# Form fields S3 does not require the policy to name.
_UNCHECKED_FIELDS = {"policy", "x-amz-signature", "file"}
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class S3Error(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})  # S3's extra elements (`HeadersNotSigned`, …)


def error_xml(code: str, message: str, details: Mapping[str, str] | None = None) -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (details or {}).items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>"
    ).encode()


def render_error(status: int, detail: str) -> tuple[str, bytes]:
    """Errors waitress answers before the app runs (bad framing, a body over the limit)."""
    if status == 413:
        return "application/xml", error_xml(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
        )
    return "application/xml", error_xml("InvalidRequest", detail.split("\n")[0][:200])


def _signature_mismatch() -> S3Error:
    return S3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def _timestamp(value: str, what: str) -> datetime:
    try:
        return datetime.strptime(value, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise S3Error(400, "AuthorizationQueryParametersError", f"{what} is malformed") from None


class _Signer:
    """botocore's SigV4 signer replayed at a given timestamp: `add_auth` would sign now."""

    def __init__(self, secrets: Mapping[str, str], region: str):
        self.secrets = secrets
        self.region = region

    def credentials(self, credential: str, token: str | None, amz_date: str) -> Credentials:
        """The credentials `AKID/date/region/s3/aws4_request` names, signing at `amz_date`."""
        parts = credential.split("/")
        if len(parts) != 5 or parts[3:] != ["s3", "aws4_request"]:
            raise S3Error(400, "AuthorizationHeaderMalformed", "the credential is malformed")
        access_key, day, region = parts[:3]
        if access_key not in self.secrets:
            raise S3Error(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        if region != self.region:
            raise S3Error(400, "AuthorizationHeaderMalformed", f"the region {region!r} is wrong")
        if day != amz_date[:8]:
            raise _signature_mismatch()
        return Credentials(access_key, self.secrets[access_key], token)

    def signature(
        self,
        signer: SigV4Auth,
        request: AWSRequest,
        timestamp: str,
    ) -> str:
        request.context["timestamp"] = timestamp
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _check_content_hash(headers: Mapping[str, str], body: bytes) -> None:
    content_hash = headers.get("x-amz-content-sha256", "")
    computed = hashlib.sha256(body).hexdigest()
    if content_hash not in ("", UNSIGNED_PAYLOAD) and not _same(content_hash, computed):
        raise S3Error(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )


class S3Front:
    """The WSGI app: check, then forward to moto (`upstream`, http://host:port)."""

    def __init__(
        self,
        upstream: str,
        secrets: Mapping[str, str],
        region: str,
        clock: Callable[[], float] = time.time,
    ):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.signer = _Signer(secrets, region)
        self.clock = clock
        self._local = threading.local()

    # WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        headers = lower_headers(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            self.check(method, raw, headers, body)
            status, out_headers, data = self.forward(method, raw, headers, body)
            if status == 500 and dict(out_headers).get("Content-Type", "").startswith("text/html"):
                raise self._moto_failure(method, raw)
        except S3Error as err:
            data = error_xml(err.code, err.message, err.details)
            start_response(
                status_line(err.status),
                [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))],
            )
            return [b"" if method == "HEAD" else data]
        start_response(status_line(status), out_headers)
        return [data]

    def check(self, method: str, raw: str, headers: Mapping[str, str], body: bytes) -> None:
        url = urlsplit(raw)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if method == "OPTIONS" and headers.get("origin"):
            # A CORS preflight carries no credentials, on S3 too; moto answers it. Checked first:
            # a preflight of a presigned PUT (an album photo, a part) has the PUT's signature in
            # its query, which signs the PUT, not the OPTIONS.
            return
        if "X-Amz-Signature" in query or "X-Amz-Credential" in query:
            self._check_presigned(method, raw, headers, query)
            _check_content_hash(headers, body)
        elif headers.get("authorization", "").startswith(ALGORITHM):
            self._check_header_signed(method, raw, headers, body)
        elif method == "POST" and headers.get("content-type", "").startswith("multipart/form-data"):
            self._check_post_form(url.path, headers, body)
        else:
            raise S3Error(403, "AccessDenied", "Access Denied")

    # Query (presigned URL) -------------------------------------------------------------------
    def _check_presigned(
        self, method: str, raw: str, headers: Mapping[str, str], query: dict[str, str]
    ) -> None:
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Algorithm only supports " + ALGORITHM,
            )
        for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"):
            if not query.get(name):
                raise S3Error(400, "AuthorizationQueryParametersError", f"{name} is missing")
        signed_at = _timestamp(query["X-Amz-Date"], "X-Amz-Date")
        try:
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Expires") from None
        if not 0 < expires <= MAX_EXPIRES_S:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be between 1 and 604800 seconds",
            )
        credentials = self.signer.credentials(
            query["X-Amz-Credential"], query.get("X-Amz-Security-Token"), query["X-Amz-Date"]
        )
        now = self.clock()
        if now > signed_at.timestamp() + expires:
            raise S3Error(403, "AccessDenied", "Request has expired")
        if signed_at.timestamp() > now + MAX_SKEW_S:
            raise S3Error(403, "AccessDenied", "Request is not valid yet")
        # The canonical query is every parameter but the signature, as the client sent them.
        path, _, query_string = raw.partition("?")
        kept = [p for p in query_string.split("&") if not p.startswith("X-Amz-Signature=")]
        request = self._request(method, path, "&".join(kept), headers, query["X-Amz-SignedHeaders"])
        signer = S3SigV4QueryAuth(credentials, "s3", self.signer.region, expires=expires)
        expected = self.signer.signature(signer, request, query["X-Amz-Date"])
        if not _same(expected, query.get("X-Amz-Signature", "")):
            raise _signature_mismatch()

    # Header (the functions' own calls) -------------------------------------------------------
    def _check_header_signed(
        self, method: str, raw: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        fields = dict(
            part.strip().split("=", 1)
            for part in headers["authorization"][len(ALGORITHM) :].split(",")
            if "=" in part
        )
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise S3Error(
                400, "AuthorizationHeaderMalformed", "the Authorization header is malformed"
            )
        amz_date = headers.get("x-amz-date", "")
        signed_at = _timestamp(amz_date, "X-Amz-Date")
        if abs(self.clock() - signed_at.timestamp()) > MAX_SKEW_S:
            raise S3Error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        credentials = self.signer.credentials(
            fields["Credential"], headers.get("x-amz-security-token"), amz_date
        )
        _check_content_hash(headers, body)
        path, _, query_string = raw.partition("?")
        request = self._request(method, path, query_string, headers, fields["SignedHeaders"], body)
        signer = S3SigV4Auth(credentials, "s3", self.signer.region)
        expected = self.signer.signature(signer, request, amz_date)
        if not _same(expected, fields["Signature"]):
            raise _signature_mismatch()

    @staticmethod
    def _request(
        method: str,
        path: str,
        query_string: str,
        headers: Mapping[str, str],
        signed_headers: str,
        body: bytes = b"",
    ) -> AWSRequest:
        names = [n for n in signed_headers.lower().split(";") if n]
        if "host" not in names:
            raise S3Error(400, "AuthorizationQueryParametersError", "host must be a signed header")
        missing = [n for n in names if n not in headers]
        if missing:
            raise _signature_mismatch()
        # An `x-amz-*` header changes what S3 does (an ACL, metadata, a copy source, …): S3 takes
        # none that the signature does not cover.
        unsigned = sorted(
            n
            for n in headers
            if n.startswith("x-amz-") and n not in names and n not in _UNSIGNED_AMZ_HEADERS
        )
        if unsigned:
            raise S3Error(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
                {"HeadersNotSigned": ", ".join(unsigned)},
            )
        url = f"http://{headers['host']}{path}" + (f"?{query_string}" if query_string else "")
        return AWSRequest(method=method, url=url, headers={n: headers[n] for n in names}, data=body)

    # POST form (browser upload) --------------------------------------------------------------
    def _check_post_form(self, path: str, headers: Mapping[str, str], body: bytes) -> None:
        from werkzeug.formparser import parse_form_data

        bucket = unquote(path.strip("/"))
        if not bucket or "/" in bucket:
            raise S3Error(405, "MethodNotAllowed", "POST forms go to the bucket's URL")
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": headers["content-type"],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        _, form, files = parse_form_data(environ)
        fields = {k.lower(): v for k, v in form.items()}
        upload = files.get("file")
        if upload is None or len(files) != 1:
            raise S3Error(
                400, "InvalidArgument", "POST requires exactly one file upload per request."
            )
        size = len(upload.stream.read())
        for name in ("policy", "x-amz-signature", "x-amz-credential", "x-amz-date", "key"):
            if name not in fields:
                raise S3Error(
                    400, "InvalidArgument", f"Bucket POST must contain a field named '{name}'."
                )
        if fields.get("x-amz-algorithm") != ALGORITHM:
            raise S3Error(400, "InvalidArgument", "x-amz-algorithm only supports " + ALGORITHM)
        credentials = self.signer.credentials(
            fields["x-amz-credential"], fields.get("x-amz-security-token"), fields["x-amz-date"]
        )
        request = AWSRequest(method="POST", url="http://s3.local/")
        signer = SigV4Auth(credentials, "s3", self.signer.region)
        request.context["timestamp"] = fields["x-amz-date"]
        if not _same(signer.signature(fields["policy"], request), fields["x-amz-signature"]):
            raise _signature_mismatch()
        try:
            policy = json.loads(base64.b64decode(fields["policy"], validate=True))
            expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
            conditions = policy["conditions"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: malformed") from None
        if self.clock() >= expiration.timestamp():
            raise S3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        check_policy_conditions(conditions, {**fields, "bucket": bucket}, size)

    # Forwarding ------------------------------------------------------------------------------
    def _moto_failure(self, method: str, raw: str) -> S3Error:
        """What S3 answers where moto raised an exception it has no S3 error for (werkzeug's
        HTML 500): a part, copy or completion of an upload that was aborted or completed is a
        KeyError in moto, and S3's 404 NoSuchUpload; anything else, S3's own 500."""
        url = urlsplit(raw)
        upload_id = dict(parse_qsl(url.query)).get("uploadId")
        if upload_id and not self._upload_exists(url.path, upload_id):
            return S3Error(
                404,
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the upload "
                "may have been aborted or completed.",
                {"UploadId": upload_id},
            )
        log.warning("moto failed on %s %s (answered as InternalError)", method, url.path)
        return S3Error(500, "InternalError", "We encountered an internal error. Please try again.")

    def _upload_exists(self, path: str, upload_id: str) -> bool:
        """moto's ListParts (moto checks no signature) answers 404 NoSuchUpload for an upload
        it does not hold."""
        query = urlencode({"uploadId": upload_id, "max-parts": "1"})
        status, _, _ = self.forward("GET", f"{path}?{query}", {}, b"")
        return status != 404

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        return conn

    def forward(
        self, method: str, raw: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        out = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        if body or method in ("POST", "PUT"):
            out["content-length"] = str(len(body))
        for attempt in (1, 2):  # a kept-alive connection moto closed meanwhile: reconnect once
            conn = self._connection()
            try:
                conn.request(method, raw, body=body or None, headers=out)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        pairs = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
        pairs.append(("Content-Length", str(len(data))))
        return resp.status, pairs, b"" if method == "HEAD" else data


def check_policy_conditions(conditions: list[Any], fields: Mapping[str, str], size: int) -> None:
    """S3's POST policy rules over the form's fields (lower-case names, plus `bucket`)."""
    covered = {"bucket"}
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, expected),) = condition.items()
            op, name = "eq", name.lower().lstrip("$")
        elif isinstance(condition, list) and len(condition) == 3:
            op = str(condition[0]).lower()
            if op == "content-length-range":
                low, high = int(condition[1]), int(condition[2])
                if size > high:
                    raise S3Error(
                        400,
                        "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size",
                    )
                if size < low:
                    raise S3Error(
                        400,
                        "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed size",
                    )
                continue
            name, expected = str(condition[1]).lower().lstrip("$"), condition[2]
        else:
            raise S3Error(400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}")
        covered.add(name)
        value = fields.get(name, "")
        ok = value == expected if op == "eq" else op == "starts-with" and value.startswith(expected)
        if not ok:
            shown = json.dumps([op, f"${name}", expected])
            raise S3Error(
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {shown}",
            )
    extra = sorted(
        n for n in fields if n not in covered | _UNCHECKED_FIELDS and not n.startswith("x-ignore-")
    )
    if extra:
        raise S3Error(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}"
        )
