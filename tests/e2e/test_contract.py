"""The contract over HTTP, on the local runtime: what docs/openapi.json calls valid is what the
API accepts, and each refusal answers the code docs/api.md documents, on every route alike."""

from __future__ import annotations

import base64
import json
from pathlib import Path

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
