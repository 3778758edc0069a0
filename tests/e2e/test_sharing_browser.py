"""The share dialog of the local page in headless Chromium: upload real photos, pick one person,
see the photo count, share with a recipient, open the link of the email in the local outbox and
download the archive it points at (through the local CloudFront); copy the link, revoke."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile

import numpy as np
import pytest
import requests

from tests import located
from tests.e2e.test_browser import _wait, browser  # noqa: F401 (the fixture)
from tests.e2e.test_sharing import OBAMA, PHOTOS
from tests.faceflow_photos import distinct_photos

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]
SCREENSHOT = os.environ.get("SHARE_SCREENSHOT", "/tmp/style-local-share.png")


def statuses(driver) -> list[str]:  # read in one go: the list is redrawn while it polls
    return driver.execute_script(
        "return [...document.querySelectorAll('#share-list li')].map(r => r.dataset.status)"
    )


def test_share_a_person_open_the_emailed_link_and_download_the_archive(browser, backend, tmp_path):  # noqa: F811
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    photos = distinct_photos(PHOTOS)
    if len(photos) < len(PHOTOS):
        pytest.skip("registry photos not fetched (scripts/fetch_photos.py)")
    paths = []
    for name, data in photos:
        path = tmp_path / name.rsplit("/", 1)[1]
        path.write_bytes(data)
        paths.append(str(path))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    browser.get(f"{backend.base_url}/")
    browser.execute_script("sessionStorage.clear(); localStorage.clear()")
    browser.get(f"{backend.base_url}/")
    _wait(browser, lambda d: d.find_element(By.ID, "auth-view").is_displayed())
    browser.find_element(By.ID, "email").send_keys(f"share-{os.urandom(4).hex()}@example.com")
    browser.find_element(By.ID, "password").send_keys("Corr3ct-Horse-Battery")
    browser.find_element(By.ID, "sign-up").click()
    _wait(browser, lambda d: d.find_element(By.ID, "albums-view").is_displayed())
    browser.find_element(By.ID, "album-name").send_keys("Browser share")
    browser.find_element(By.ID, "album-create").click()
    _wait(browser, lambda d: d.find_element(By.ID, "album-detail").is_displayed())
    browser.find_element(By.ID, "album-files").send_keys("\n".join(paths))
    browser.find_element(By.ID, "album-upload").click()
    _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "album-status").text.startswith("IDLE")
            and f"{len(PHOTOS)} processed" in d.find_element(By.ID, "album-status").text
        ),
        timeout=300,
    )

    # Which person is Obama: the API, with the page's own token.
    token = browser.execute_script("return sessionStorage.getItem('idToken')")
    api = backend.client_config().apiUrl.rstrip("/")
    album = browser.find_element(By.ID, "album-list").get_attribute("value")
    headers = {"Authorization": token}
    photo_names = {
        p["photoId"]: p["fileName"]
        for p in requests.get(f"{api}/albums/{album}/photos", headers=headers, timeout=30).json()[
            "items"
        ]
    }
    people = requests.get(f"{api}/albums/{album}/clusters", headers=headers, timeout=30).json()
    wanted = {n.rsplit("/", 1)[1] for n in OBAMA}
    (obama,) = [
        c["clusterId"]
        for c in people["items"]
        if {photo_names[f["photoId"]] for f in c["faces"]} == wanted
    ]

    browser.find_element(By.ID, "share-open").click()
    _wait(browser, lambda d: d.find_element(By.ID, "share-dialog").is_displayed())
    person = f"#share-people [data-cluster-id='{obama}']"  # the dialog's, not the chip's
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, person))
    browser.find_element(By.CSS_SELECTOR, f"{person} input").click()
    _wait(
        browser, lambda d: d.find_element(By.ID, "share-count").text == "2 photos will be shared."
    )
    recipient = f"friend-{os.urandom(3).hex()}@example.com"
    browser.find_element(By.ID, "share-recipients").send_keys(recipient)
    assert not browser.find_element(By.ID, "share-keep-location").is_selected()  # removed
    browser.save_screenshot(SCREENSHOT)
    browser.find_element(By.ID, "share-create").click()
    _wait(browser, lambda d: statuses(d) == ["READY"], timeout=120)
    row = browser.find_element(By.CSS_SELECTOR, "#share-list li")
    assert row.get_attribute("data-keep-location") == "false"
    assert "location removed" in row.text
    archive_url = row.get_attribute("data-archive-url")
    row.find_element(By.CSS_SELECTOR, ".share-copy").click()
    _wait(browser, lambda d: d.find_element(By.ID, "message").text == "Link copied.")

    # The recipient's email, in the local outbox: its link downloads the archive.
    browser.find_element(By.CSS_SELECTOR, "#outbox summary").click()

    def emailed_link(d):
        d.find_element(By.ID, "outbox-refresh").click()
        return d.execute_script(  # read in one go: the list is redrawn on every refresh
            "const row = [...document.querySelectorAll('#outbox-list li')]"
            ".find(r => r.textContent.includes(arguments[0]));"
            "return row && row.querySelector('a.outbox-link').href",
            recipient,
        )

    href = _wait(browser, emailed_link, timeout=60)
    assert href == archive_url  # the email's link is the share's

    def open_emailed_link(d):
        try:
            d.find_element(By.CSS_SELECTOR, f"#outbox-list a[href='{href}']").click()
        except StaleElementReferenceException:  # a refresh still in flight redrew the list
            return False
        return True

    _wait(browser, open_emailed_link)

    def downloaded(_):
        done = [p for p in downloads.iterdir() if p.suffix == ".zip"]
        return done[0] if done else None

    archive = _wait(browser, downloaded, timeout=60)
    time.sleep(0.2)
    originals = {n.rsplit("/", 1)[1]: d for n, d in photos if n in OBAMA}
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as opened:
        got = {n: opened.read(n) for n in opened.namelist()}
    assert sorted(got) == sorted(originals)
    # Both White House portraits name their city in their IPTC record (2:90): gone, the pixels
    # the same.
    city = re.compile(rb"\x1c\x02Z\x00.washington", re.IGNORECASE | re.DOTALL)
    for name, original in originals.items():
        assert city.search(original) and not city.search(got[name]), name
        assert len(got[name]) == len(original)
        assert np.array_equal(located.pixels(got[name]), located.pixels(original)), name

    # Revoke: the row says so and the link is refused from now on.
    browser.get(f"{backend.base_url}/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#share-list li .share-revoke"))
    browser.execute_script("window.confirm = () => true")
    browser.find_element(By.CSS_SELECTOR, "#share-list li .share-revoke").click()
    _wait(browser, lambda d: statuses(d) == ["REVOKED"])
    assert requests.get(archive_url, timeout=30).status_code == 403
    assert browser.find_element(By.ID, "message").text == ""
