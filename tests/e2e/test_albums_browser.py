"""The albums view of the local page in headless Chromium: create an album, pick 20 photos at
once, upload them with per-file progress, see every one processed with its thumbnail."""

from __future__ import annotations

import os

import pytest

from local.album_client import real_photos
from tests.e2e.test_browser import _wait, browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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
