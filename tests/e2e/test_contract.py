"""The contract over HTTP, on the local runtime: what docs/openapi.json calls valid is what the
API accepts, and each refusal answers the code docs/api.md documents, on every route alike."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jsonschema
import pytest

from local.album_client import AlbumUser

pytestmark = pytest.mark.e2e

DOCUMENT = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def owner(backend) -> tuple[AlbumUser, str, dict[str, str]]:
    """A user with two albums, and the first page's nextToken of each listing that has one."""
    user = AlbumUser.sign_up(backend)
    first = user.create_album("One")
    user.create_album("Two")
    r = user.call("GET", "/albums?limit=1")
    assert r.status_code == 200, r.text
    return user, first, {"albums": r.json()["nextToken"]}


def _listings(user: AlbumUser, album: str) -> dict[str, str]:
    return {
        "results": f"/apis/images/{user.sub}",
        "albums": "/albums",
        "photos": f"/albums/{album}/photos",
        "clusters": f"/albums/{album}/clusters",
    }


MALFORMED = {
    "not base64url": "%%%",
    "empty": "",
    "too long": "A" * 2049,
    "a JSON array": _b64url("[1, 2]"),
    "a key of numbers": _b64url('{"PK": 1, "SK": 2}'),
    "nested past the parser's depth": _b64url("[" * 1500),
    "an offset past any page": _b64url('{"offset": "1234567890"}'),
}


@pytest.mark.parametrize("listing", ["results", "albums", "photos", "clusters"])
@pytest.mark.parametrize("token", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_listing_refuses_a_token_it_did_not_give_as_invalid_token(owner, listing, token):
    user, album, _ = owner
    path = _listings(user, album)[listing]
    r = user.http.get(
        f"{user.api_url}{path}",
        params={"nextToken": token},
        headers={"Authorization": user.token},
        timeout=30,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "INVALID_TOKEN"), r.text


def test_a_token_is_refused_by_another_listing_and_another_user(backend, owner):
    user, album, tokens = owner
    albums_token = tokens["albums"]
    assert user.call("GET", f"/albums?nextToken={albums_token}").status_code == 200
    stranger = AlbumUser.sign_up(backend)
    refused = [
        user.call("GET", f"/albums/{album}/photos?nextToken={albums_token}"),
        user.call("GET", f"/albums/{album}/clusters?nextToken={albums_token}"),
        user.call("GET", f"/apis/images/{user.sub}?nextToken={albums_token}"),
        stranger.call("GET", f"/albums?nextToken={albums_token}"),
    ]
    for r in refused:
        assert (r.status_code, r.json()["error"]["code"]) == (400, "INVALID_TOKEN"), r.text


def _document_accepts(schema_name: str, body: dict) -> bool:
    """Whether docs/openapi.json calls `body` a valid `schema_name` (a request body)."""
    components = DOCUMENT["components"]
    schema = {**components["schemas"][schema_name], "components": components}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


# What str.strip() drops: a label of nothing else is refused (faceflow.domain.people.label).
SPACES = [chr(code) for code in range(0x110000) if chr(code).isspace()]


def test_the_document_refuses_exactly_the_labels_the_api_refuses(owner):
    user, album, _ = owner
    label = f"/albums/{album}/clusters/C-0-0/label"  # no such person: 404 for a valid name
    for name in [*SPACES, " \u0085\u3000 ", "\t\n"]:
        assert not _document_accepts("LabelCluster", {"name": name}), repr(name)
        r = user.call("POST", label, {"name": name})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "VALIDATION_ERROR"), r.text
    for name in ["Ann", " Ann ", "\u200b", "Ann-Marie", "李", "\u0085x"]:
        assert _document_accepts("LabelCluster", {"name": name}), repr(name)
        r = user.call("POST", label, {"name": name})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "NOT_FOUND"), r.text


def test_the_label_pattern_refuses_white_space_and_nothing_else():
    pattern = DOCUMENT["components"]["schemas"]["LabelCluster"]["properties"]["name"]["pattern"]
    compiled = re.compile(pattern)
    refused = [chr(code) for code in range(0x110000) if not compiled.search(chr(code))]
    assert refused == SPACES


def test_the_document_lists_exactly_the_upload_types_the_api_takes(owner):
    user, album, _ = owner
    for kind in ["ws", "image/gif", "IMAGE/JPEG", "image/jpeg; q=1", "image/tiff"]:
        body = {"fileName": "a.jpg", "contentType": kind, "size": 1}
        assert not _document_accepts("PhotoUploadRequest", body), kind
        r = user.call("POST", f"/albums/{album}/uploadUrl", body)
        assert (r.status_code, r.json()["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    for kind in ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif"]:
        body = {"fileName": "a.jpg", "contentType": kind, "size": 1}
        assert _document_accepts("PhotoUploadRequest", body), kind
        assert user.call("POST", f"/albums/{album}/uploadUrl", body).status_code == 201


def test_the_document_bounds_an_upload_size_where_every_deployment_does(owner):
    user, album, _ = owner
    ceiling = 50 * 1024 * 1024  # album_max_photo_bytes: its default, and the most it may be
    too_big = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": ceiling + 1}
    assert not _document_accepts("PhotoUploadRequest", too_big)
    r = user.call("POST", f"/albums/{album}/uploadUrl", too_big)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "VALIDATION_ERROR"), r.text
    largest = {**too_big, "size": ceiling}
    assert _document_accepts("PhotoUploadRequest", largest)
    assert user.call("POST", f"/albums/{album}/uploadUrl", largest).status_code == 201
