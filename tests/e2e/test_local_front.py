"""The local HTTP front under load and abuse (issues 18, 19 and 25), against the real app's backend:
200 connections at once, the 20-user upload flow again and again, framing edges a careless or
hostile client sends, the /local/auth guards, the S3 front refusing what S3 refuses, and the local
routes refusing a DNS-rebinding request."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local.album_client import AlbumUser
from local.client import User, jpeg
from local.httpd import IDLE_TIMEOUT_S
from local.photos import astronaut
from local.runtime import FAKE_CREDENTIALS
from local.server import MAX_BODY

pytestmark = pytest.mark.e2e

CONNECTIONS = 200


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` on a fresh loopback connection; everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def responses(stream: bytes) -> list[tuple[int, dict]]:
    """(status, JSON body or {}) of every HTTP response in `stream`."""
    found = []
    for m in re.finditer(rb"HTTP/1\.[01] (\d{3}) [^\r]*\r\n(.*?)\r\n\r\n", stream, re.S):
        headers = dict(line.split(b": ", 1) for line in m.group(2).split(b"\r\n") if b": " in line)
        length = int(headers.get(b"Content-Length", b"0"))
        body = stream[m.end() : m.end() + length]
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {"raw": body[:200]}
        found.append((int(m.group(1)), doc))
    return found


@pytest.fixture(scope="module")
def agreed(backend) -> User:
    user = User.sign_up(backend)
    user.agree()
    return user


# Issue 19: load -----------------------------------------------------------------------------------


def test_two_hundred_connections_at_once_all_get_an_answer(backend, agreed):
    """Every client connects at the same moment and calls an API route (a function invocation
    each): the front queues them; none is reset or refused."""
    start = threading.Barrier(CONNECTIONS)
    request = (
        f"GET /prod/agree HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {agreed.token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()

    def client(_: int) -> tuple[int, float] | str:
        start.wait()
        began = time.monotonic()
        try:
            answer = raw_exchange(backend.port, request, timeout=120)
        except OSError as err:
            return f"{type(err).__name__}: {err}"
        found = responses(answer)
        return (found[0][0] if found else 0), time.monotonic() - began

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        outcomes = list(pool.map(client, range(CONNECTIONS)))
    failures = [o for o in outcomes if isinstance(o, str)]
    assert failures == []
    assert [status for status, _ in outcomes] == [200] * CONNECTIONS
    assert max(took for _, took in outcomes) < 90  # queued, and the queue drains


def test_twenty_users_uploading_at_once_ten_times_lose_nothing(backend):
    """The 20-user flow (upload ticket + form post to the S3 front) ten times over, all 20 at once
    each time: zero failures. The photo is a cut JPEG, so the pipeline ends fast (UNREADABLE_IMAGE)
    and leaves the machine to the next round."""
    users = [User.sign_up(backend) for _ in range(20)]
    for user in users:
        user.agree()
    style = users[0].styles()[0]["resourceId"]
    photo = jpeg(astronaut())[:600]
    failures: list[str] = []
    uploaded: list[tuple[User, str]] = []
    for _ in range(10):
        start = threading.Barrier(len(users))

        def run(user: User, start: threading.Barrier = start) -> tuple[User, str] | str:
            start.wait()
            try:
                return user, user.upload(photo, [style])
            except (requests.RequestException, AssertionError) as err:
                return f"{type(err).__name__}: {err}"

        with ThreadPoolExecutor(len(users)) as pool:
            for outcome in pool.map(run, users):
                if isinstance(outcome, str):
                    failures.append(outcome)
                else:
                    uploaded.append(outcome)
    assert failures == []
    assert len(uploaded) == 200
    for user, process_id in uploaded[-20:]:  # the uploads landed and ran
        done = user.wait(process_id, timeout=300)
        assert done["status"] == "FAILED" and done["error"]["code"] == "UNREADABLE_IMAGE", done


# Issue 18 item 4: framing edges -------------------------------------------------------------------


def test_after_a_413_the_unread_body_is_not_a_second_request(backend):
    smuggled = b"GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = smuggled + b" " * (MAX_BODY + 1 - len(smuggled))
    head = (
        f"POST /prod/agree HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    found = responses(raw_exchange(backend.port, head + body, timeout=30))
    assert [status for status, _ in found] == [413]
    assert found[0][1]["error"]["code"] == "BODY_TOO_LARGE"


def test_an_error_closes_the_connection(backend):
    """A refused request is the last one read on its connection (a pipelined one is never read)."""
    pipelined = (
        b"GET /prod/apis/styles HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # 401: no token
        b"GET /config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    found = responses(raw_exchange(backend.port, pipelined))
    assert [status for status, _ in found] == [401]


@pytest.mark.parametrize(
    ("length", "status"), [("-1", 400), ("1_0", 400), (" 12abc", 400), (str(10**12), 413)]
)
def test_bad_or_huge_content_length_is_refused_in_the_api_error_shape(backend, length, status):
    head = (
        f"POST /prod/agree HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    found = responses(raw_exchange(backend.port, head))
    assert [s for s, _ in found] == [status]
    assert set(found[0][1]["error"]) == {"code", "message"}


def test_a_body_that_never_comes_holds_no_thread_and_times_out(backend):
    """Content-Length promises 100 bytes, 10 come: meanwhile others are served, and the
    connection is closed after the idle timeout instead of being waited on for ever."""
    with socket.create_connection(("127.0.0.1", backend.port), timeout=IDLE_TIMEOUT_S + 20) as s:
        s.sendall(b"POST /prod/agree HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        began = time.monotonic()
        with ThreadPoolExecutor(40) as pool:  # more than the front's threads
            codes = list(
                pool.map(
                    lambda _: (
                        requests.get(f"{backend.base_url}/config.json", timeout=10).status_code
                    ),
                    range(80),
                )
            )
        assert codes == [200] * 80
        assert s.recv(65536) == b""  # closed by the server
        assert time.monotonic() - began < IDLE_TIMEOUT_S + 15


@pytest.mark.parametrize("path", ["/prod/apis/styles", "/prod/agree", "/", "/config.json"])
def test_trace_and_unknown_methods_answer_as_the_gateway_does(backend, path):
    host = f"127.0.0.1:{backend.port}"  # the local routes answer their own Host only (below)
    for method in ("TRACE", "PROPFIND"):
        found = responses(
            raw_exchange(backend.port, f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        )
        assert found[0][0] == 403, (method, path, found)
        assert found[0][1]["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"


# Issue 18 item 5: /local/auth ---------------------------------------------------------------------


def _email(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}@example.com"


def _auth(backend, action: str, body: dict, **headers: str) -> requests.Response:
    return requests.post(
        f"{backend.base_url}/local/auth/{action}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


def test_auth_refuses_other_origins_and_text_plain(backend):
    creds = {"email": _email("cross-origin"), "password": "Passw0rd!Passw0rd"}
    evil = _auth(backend, "signup", creds, Origin="http://evil.example")
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "FORBIDDEN"
    cross_site = _auth(backend, "signup", creds, **{"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    plain = requests.post(
        f"{backend.base_url}/local/auth/signup",
        data=json.dumps(creds),
        headers={"Content-Type": "text/plain", "Origin": backend.base_url},
        timeout=30,
    )
    assert plain.status_code == 415
    # None of them signed anyone up; the page's own origin may.
    assert _auth(backend, "signin", creds).status_code == 400
    assert _auth(backend, "signup", creds, Origin=backend.base_url).status_code == 200


def test_sign_in_answers_the_same_for_unknown_and_registered_emails(backend):
    known = {"email": _email("known"), "password": "Passw0rd!Passw0rd"}
    assert _auth(backend, "signup", known).status_code == 200
    wrong = _auth(backend, "signin", {**known, "password": "Wrong-passw0rd!"})
    unknown = _auth(backend, "signin", {"email": _email("nobody"), "password": "Passw0rd!1"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.json()["error"]["code"] == "NotAuthorizedException"


def test_failed_sign_ins_are_rate_limited(backend):
    creds = {"email": _email("sprayed"), "password": "Passw0rd!Passw0rd"}
    assert _auth(backend, "signup", creds).status_code == 200
    codes = [
        _auth(backend, "signin", {**creds, "password": f"guess-{i}"}).status_code for i in range(12)
    ]
    assert codes[:5] == [400] * 5
    assert set(codes[5:]) == {429}
    # The right password is refused too while the limit holds: guessing gains nothing.
    assert _auth(backend, "signin", creds).status_code == 429


# Issue 18 item 6: the S3 front --------------------------------------------------------------------


def _ticket(user: User, content_type: str = "image/jpeg") -> dict:
    style = user.styles()[0]["resourceId"]
    r = user.call(
        "POST", "/apis/images/upload", {"contentType": content_type, "resourceIds": [style]}
    )
    assert r.status_code == 201, r.text
    return r.json()


def _post_form(ticket: dict, data: bytes, content_type: str = "image/jpeg", **changed: str):
    fields = {**ticket["upload"]["fields"], **changed}
    return requests.post(
        ticket["upload"]["url"],
        data=fields,
        files={"file": ("selfie", data, content_type)},
        timeout=60,
    )


def s3_error(response: requests.Response) -> tuple[int, str]:
    code = re.search(rb"<Code>([^<]+)</Code>", response.content)
    return response.status_code, code.group(1).decode() if code else response.text[:200]


def _front_client(backend):
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=backend.region,
    ).client("s3", endpoint_url=backend.s3_url, config=Config(signature_version="s3v4"))


def test_clients_are_handed_urls_of_the_s3_front(backend, agreed):
    ticket = _ticket(agreed)
    assert ticket["upload"]["url"].startswith(backend.s3_url + "/")
    assert all(s["imageUrl"].startswith(backend.s3_url + "/") for s in agreed.styles())


def test_a_form_with_another_key_is_refused(backend, agreed):
    victim = User.sign_up(backend)
    victim.agree()
    victims_key = _ticket(victim)["upload"]["fields"]["key"]
    attack = _post_form(_ticket(agreed), jpeg(astronaut()), key=victims_key)
    assert s3_error(attack) == (403, "AccessDenied")
    assert b"Policy Condition failed" in attack.content
    bucket = victims_key and backend.environment_of("upload.handler")["BUCKET_NAME"]
    listed = backend.client("s3").list_objects_v2(Bucket=bucket, Prefix=victims_key)
    assert listed.get("KeyCount", 0) == 0


def test_a_form_with_another_content_type_or_a_zeroed_signature_is_refused(backend, agreed):
    photo = jpeg(astronaut())
    other_type = _post_form(_ticket(agreed), photo, **{"Content-Type": "image/png"})
    assert s3_error(other_type) == (403, "AccessDenied")
    ticket = _ticket(agreed)
    zeroed = _post_form(ticket, photo, **{"x-amz-signature": "0" * 64})
    assert s3_error(zeroed) == (403, "SignatureDoesNotMatch")
    extra = _post_form(ticket, photo, **{"x-amz-meta-owner": "someone-else"})
    assert s3_error(extra) == (403, "AccessDenied")
    assert _post_form(ticket, photo).status_code in (200, 201, 204)  # the form itself is fine


def test_an_oversize_upload_is_refused(backend, agreed):
    limit = int(backend.environment_of("upload.handler").get("MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    ticket = _ticket(agreed)
    too_big = _post_form(ticket, b"\xff" * (limit + 1))
    assert s3_error(too_big) == (400, "EntityTooLarge")
    empty = _post_form(ticket, b"")
    assert s3_error(empty) == (400, "EntityTooSmall")


def test_an_expired_form_and_an_expired_url_are_refused(backend):
    s3 = _front_client(backend)
    bucket = backend.environment_of("upload.handler")["BUCKET_NAME"]
    backend.client("s3").put_object(Bucket=bucket, Key="probe/expiring.txt", Body=b"x")
    form = s3.generate_presigned_post(
        bucket, "probe/expired-form.txt", Conditions=[["content-length-range", 1, 10]], ExpiresIn=-5
    )
    expired_form = requests.post(
        form["url"], data=form["fields"], files={"file": ("f", b"abc")}, timeout=30
    )
    assert s3_error(expired_form) == (403, "AccessDenied")
    assert b"Policy expired" in expired_form.content

    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "probe/expiring.txt"}, ExpiresIn=1
    )
    assert requests.get(url, timeout=10).content == b"x"
    time.sleep(2.1)
    late = requests.get(url, timeout=10)
    assert s3_error(late) == (403, "AccessDenied")
    assert b"Request has expired" in late.content


def test_tampered_or_unsigned_urls_are_refused(backend, agreed):
    url = agreed.styles()[0]["imageUrl"]
    assert requests.get(url, timeout=10).status_code == 200
    zeroed = re.sub(r"X-Amz-Signature=[0-9a-f]+", "X-Amz-Signature=" + "0" * 64, url)
    assert s3_error(requests.get(zeroed, timeout=10)) == (403, "SignatureDoesNotMatch")
    other_key = url.replace("?", "x?", 1)  # the signed key with a character more
    assert s3_error(requests.get(other_key, timeout=10)) == (403, "SignatureDoesNotMatch")
    longer = re.sub(r"X-Amz-Expires=\d+", "X-Amz-Expires=604800", url)
    assert s3_error(requests.get(longer, timeout=10)) == (403, "SignatureDoesNotMatch")
    unsigned = url.split("?", 1)[0]
    assert s3_error(requests.get(unsigned, timeout=10)) == (403, "AccessDenied")


def test_the_functions_own_header_signed_calls_are_checked_too(backend):
    s3 = _front_client(backend)
    bucket = backend.environment_of("upload.handler")["BUCKET_NAME"]
    s3.put_object(Bucket=bucket, Key="probe/signed.txt", Body=b"signed")
    assert s3.get_object(Bucket=bucket, Key="probe/signed.txt")["Body"].read() == b"signed"
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    scope = f"local/{now[:8]}/{backend.region}/s3/aws4_request"
    forged = requests.get(
        f"{backend.s3_url}/{bucket}/probe/signed.txt",
        headers={
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope},"
            " SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "X-Amz-Date": now,
        },
        timeout=10,
    )
    assert s3_error(forged) == (403, "SignatureDoesNotMatch")


# Issue 25 items 3 and 4: the S3 front on album uploads --------------------------------------------


def _bucket_and_key(url: str) -> tuple[str, str]:
    bucket, key = urlsplit(url).path.lstrip("/").split("/", 1)
    return bucket, unquote(key)


def test_an_unsigned_x_amz_header_on_an_album_upload_url_is_refused(backend):
    """S3 takes no `x-amz-*` header the URL does not sign: an `x-amz-acl: public-read` made the
    photo public, an `x-amz-meta-*` was stored."""
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Unsigned headers")
    photo = jpeg(astronaut())
    upload = user.request_upload(album, photo, "a.jpg", "image/jpeg").json()["upload"]
    assert upload["method"] == "PUT"
    bucket, key = _bucket_and_key(upload["url"])
    for added in ({"x-amz-acl": "public-read"}, {"x-amz-meta-owner": "mallory"}):
        r = requests.put(
            upload["url"], data=photo, headers={**upload["headers"], **added}, timeout=60
        )
        assert s3_error(r) == (403, "AccessDenied")
        assert f"<HeadersNotSigned>{next(iter(added))}</HeadersNotSigned>".encode() in r.content
    s3 = backend.client("s3")
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0
    # The URL as handed out still works, and stores a private object without that metadata.
    assert requests.put(upload["url"], data=photo, headers=upload["headers"], timeout=60).ok
    grantees = [
        g["Grantee"].get("URI", "") for g in s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    ]
    assert not [uri for uri in grantees if uri.endswith("/AllUsers")]
    assert s3.head_object(Bucket=bucket, Key=key)["Metadata"] == {}


def test_a_part_url_after_its_upload_was_aborted_is_s3_s_404_no_such_upload(backend):
    """Deleting the album aborts its unfinished multipart upload; its part URLs, a completion and
    a listing of its parts then answer S3's 404 NoSuchUpload (moto's KeyError was an HTML 500)."""
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Aborted")
    part_size = int(backend.environment_of("album_api.handler")["ALBUM_PART_SIZE_BYTES"])
    data = b"\xff" * (part_size + 1)
    ticket = user.request_upload(album, data, "big.png", "image/png").json()
    upload = ticket["upload"]
    assert upload["method"] == "MULTIPART" and len(upload["parts"]) == 2
    first = user.put_parts(data, part_size, upload["parts"][:1])
    assert user.call("DELETE", f"/albums/{album}").status_code == 202
    for part in upload["parts"]:
        late = requests.put(part["url"], data=data[:part_size], timeout=60)
        assert s3_error(late) == (404, "NoSuchUpload"), late.text[:300]
        assert late.headers["Content-Type"] == "application/xml"
    bucket, key = _bucket_and_key(upload["parts"][0]["url"])
    s3 = _front_client(backend)
    done = [{"PartNumber": 1, "ETag": first[0]["etag"]}]
    for call in (
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["uploadId"], MultipartUpload={"Parts": done}
        ),
        lambda: s3.list_parts(Bucket=bucket, Key=key, UploadId=upload["uploadId"]),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "NoSuchUpload"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# Issue 25 item 5: DNS rebinding -------------------------------------------------------------------


def test_local_routes_refuse_a_dns_rebinding_request(backend):
    """A page of evil.example whose name was re-pointed at 127.0.0.1 sends Host and Origin
    `evil.example:PORT`: the outbox (every user's emails and their working links), sign-in,
    the page and its config refuse it; the runtime's own names are answered."""
    evil = f"evil.example:{backend.port}"
    rebound = {"Host": evil, "Origin": f"http://{evil}"}
    for method, path in (
        ("GET", "/local/outbox"),
        ("POST", "/local/auth/signin"),
        ("GET", "/config.json"),
        ("GET", "/"),
    ):
        r = requests.request(
            method,
            f"{backend.base_url}{path}",
            headers={**rebound, "Content-Type": "application/json"},
            data=b'{"email": "a@example.com", "password": "x"}' if method == "POST" else None,
            timeout=30,
        )
        assert r.status_code == 403, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "FORBIDDEN"
        assert "items" not in r.json()
    for own in (f"127.0.0.1:{backend.port}", f"localhost:{backend.port}"):
        r = requests.get(f"{backend.base_url}/local/outbox", headers={"Host": own}, timeout=30)
        assert r.status_code == 200 and "items" in r.json()
