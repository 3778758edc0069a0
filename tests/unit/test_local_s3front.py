"""The local S3 front's checks on their own, against what botocore signs (no server, no moto): the
URLs and forms come from boto3's own presigner, the clock is the test's."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from local.s3front import S3Error, S3Front

ENDPOINT = "http://127.0.0.1:9"  # never connected to: only the checks run
REGION = "us-west-2"


@pytest.fixture
def s3():
    return boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",
        aws_session_token="local",
        region_name=REGION,
    ).client("s3", endpoint_url=ENDPOINT, config=Config(signature_version="s3v4"))


def front(at: float) -> S3Front:
    return S3Front(ENDPOINT, {"local": "local"}, REGION, clock=lambda: at)


def get(url: str, at: float) -> None:
    parts = urlsplit(url)
    front(at).check("GET", f"{parts.path}?{parts.query}", {"host": parts.netloc}, b"")


def test_a_900_second_url_works_at_899_and_is_refused_at_915(s3):
    signed_at = time.time()
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "results/a.jpg"}, ExpiresIn=900
    )
    get(url, signed_at + 899)
    with pytest.raises(S3Error) as err:
        get(url, signed_at + 915)
    assert (err.value.status, err.value.code) == (403, "AccessDenied")
    assert err.value.message == "Request has expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda u: u.replace("results/a.jpg", "results/b.jpg"),
        lambda u: u.replace("X-Amz-Expires=900", "X-Amz-Expires=3600"),
        lambda u: u.split("X-Amz-Signature=")[0] + "X-Amz-Signature=" + "0" * 64,
    ],
    ids=["other key", "longer expiry", "zeroed signature"],
)
def test_a_tampered_url_does_not_match_its_signature(s3, tamper):
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "results/a.jpg"}, ExpiresIn=900
    )
    with pytest.raises(S3Error) as err:
        get(tamper(url), time.time())
    assert (err.value.status, err.value.code) == (403, "SignatureDoesNotMatch")


def test_another_secret_does_not_verify(s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    parts = urlsplit(url)
    other = S3Front(ENDPOINT, {"local": "not-the-secret"}, REGION)
    with pytest.raises(S3Error) as err:
        other.check("GET", f"{parts.path}?{parts.query}", {"host": parts.netloc}, b"")
    assert err.value.code == "SignatureDoesNotMatch"


def _form_body(fields: dict[str, str], data: bytes) -> tuple[str, bytes]:
    boundary = "----localtestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post(form: dict, at: float, data: bytes = b"photo", **changed: str) -> None:
    content_type, body = _form_body({**form["fields"], **changed}, data)
    front(at).check("POST", urlsplit(form["url"]).path, {"content-type": content_type}, body)


@pytest.fixture
def form(s3):
    return s3.generate_presigned_post(
        "b",
        "uploads/u1/p1.jpg",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 10]],
        ExpiresIn=300,
    )


def test_the_form_as_signed_passes(form):
    post(form, time.time())


@pytest.mark.parametrize(
    ("change", "data", "at", "expected"),
    [
        ({"key": "uploads/u2/p9.jpg"}, b"photo", 0, (403, "AccessDenied")),
        ({"Content-Type": "text/html"}, b"photo", 0, (403, "AccessDenied")),
        ({"x-amz-meta-extra": "1"}, b"photo", 0, (403, "AccessDenied")),
        ({"x-amz-signature": "0" * 64}, b"photo", 0, (403, "SignatureDoesNotMatch")),
        ({}, b"x" * 11, 0, (400, "EntityTooLarge")),
        ({}, b"", 0, (400, "EntityTooSmall")),
        ({}, b"photo", 301, (403, "AccessDenied")),
    ],
    ids=["other key", "other type", "extra field", "zeroed", "oversize", "empty", "expired"],
)
def test_the_form_s_policy_is_enforced(form, change, data, at, expected):
    with pytest.raises(S3Error) as err:
        post(form, time.time() + at, data, **change)
    assert (err.value.status, err.value.code) == expected


def test_an_unsigned_request_is_refused_but_a_cors_preflight_is_not():
    with pytest.raises(S3Error) as err:
        front(time.time()).check("GET", "/b/k", {"host": "x"}, b"")
    assert (err.value.status, err.value.code) == (403, "AccessDenied")
    front(time.time()).check("OPTIONS", "/b", {"host": "x", "origin": "http://page"}, b"")


def _put(url: str, at: float, headers: dict[str, str] | None = None) -> None:
    parts = urlsplit(url)
    front(at).check(
        "PUT", f"{parts.path}?{parts.query}", {"host": parts.netloc, **(headers or {})}, b"x"
    )


def test_album_presigned_puts_and_part_urls_pass_and_their_part_is_signed(s3):
    """FaceFlow albums: a photo's presigned PUT (its content type signed) and each multipart
    part's URL (`?partNumber=&uploadId=`) pass as signed; another part number does not."""
    now = time.time()
    put = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": "raw", "Key": "tenant/u/a/p.jpg", "ContentType": "image/jpeg"},
        ExpiresIn=3600,
    )
    _put(put, now, {"content-type": "image/jpeg"})
    part = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": "raw", "Key": "tenant/u/a/p.jpg", "UploadId": "up-1", "PartNumber": 2},
        ExpiresIn=3600,
    )
    assert "partNumber=2" in part and "uploadId=up-1" in part
    _put(part, now)
    with pytest.raises(S3Error) as err:
        _put(part.replace("partNumber=2", "partNumber=3"), now)
    assert err.value.status == 403


def test_the_preflight_of_a_presigned_put_passes(s3):
    """The browser's preflight of an album PUT keeps the PUT's query (its signature signs PUT)."""
    part = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": "raw", "Key": "tenant/u/a/p.jpg", "UploadId": "up-1", "PartNumber": 1},
    )
    parts = urlsplit(part)
    headers = {"host": parts.netloc, "origin": "http://127.0.0.1:8000"}
    front(time.time()).check("OPTIONS", f"{parts.path}?{parts.query}", headers, b"")


def _album_put(s3, **params: str) -> str:
    return s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": "raw", "Key": "tenant/u/a/p.jpg", "ContentType": "image/jpeg", **params},
        ExpiresIn=3600,
    )


@pytest.mark.parametrize(
    "added",
    [{"x-amz-acl": "public-read"}, {"x-amz-meta-owner": "someone"}, {"x-amz-tagging": "a=b"}],
    ids=["acl", "metadata", "tagging"],
)
def test_an_unsigned_x_amz_header_on_a_presigned_put_is_refused(s3, added):
    """As S3: 403 AccessDenied naming the header (issue 25 item 3: an unsigned `x-amz-acl` made
    the photo public)."""
    with pytest.raises(S3Error) as err:
        _put(_album_put(s3), time.time(), {"content-type": "image/jpeg", **added})
    assert (err.value.status, err.value.code) == (403, "AccessDenied")
    assert err.value.message == "There were headers present in the request which were not signed"
    assert err.value.details == {"HeadersNotSigned": next(iter(added))}


def test_signed_headers_pass_whatever_their_names(s3):
    """What the URL signs may be sent (an ACL, a conditional write's If-None-Match); the payload
    hash is the one x-amz-* header S3 takes unsigned, and the body must match it."""
    now = time.time()
    _put(_album_put(s3, ACL="private"), now, {"content-type": "image/jpeg", "x-amz-acl": "private"})
    conditional = _album_put(s3, IfNoneMatch="*")
    assert "if-none-match" in conditional
    _put(conditional, now, {"content-type": "image/jpeg", "if-none-match": "*"})
    body_hash = hashlib.sha256(b"x").hexdigest()  # `_put` sends b"x"
    _put(_album_put(s3), now, {"content-type": "image/jpeg", "x-amz-content-sha256": body_hash})
    with pytest.raises(S3Error) as err:
        _put(_album_put(s3), now, {"content-type": "image/jpeg", "x-amz-content-sha256": "0" * 64})
    assert err.value.code == "XAmzContentSHA256Mismatch"


def test_an_unsigned_x_amz_header_on_a_header_signed_call_is_refused():
    request = AWSRequest(method="PUT", url=f"{ENDPOINT}/raw/k", data=b"x")
    S3SigV4Auth(Credentials("local", "local"), "s3", REGION).add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = urlsplit(ENDPOINT).netloc
    front(time.time()).check("PUT", "/raw/k", headers, b"x")
    with pytest.raises(S3Error) as err:
        front(time.time()).check("PUT", "/raw/k", {**headers, "x-amz-acl": "public-read"}, b"x")
    assert (err.value.status, err.value.code) == (403, "AccessDenied")
