"""The Expo app's web export (clients/mobile/dist, `make mobile`) in headless Chromium against
the local runtime, which serves it at /mobile/ beside /config.json and the API: sign in (Cognito's
USER_PASSWORD_AUTH on the local pool), accept the terms, style a real selfie and see the result,
create an album, upload real photos with per-file progress, see them processed and the people
found in them. Screenshots of each screen go to /tmp/mobile-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local import seed
from local.album_client import content_type, real_photos
from local.client import User, jpeg
from local.photos import astronaut
from tests.e2e.test_browser import _wait as _until
from tests.e2e.test_browser import browser  # noqa: F401 (the fixture)
from tests.typescript import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

MOBILE = ROOT / "clients" / "mobile"
EXPORT = MOBILE / "dist" / "index.html"
SCREENSHOTS = Path("/tmp")
ALBUM_PHOTOS = 3


def built_export() -> None:
    """The web export, newer than every source it is built from (else it is not the app)."""
    sources = [MOBILE / "app.json", MOBILE / "index.ts", *MOBILE.glob("src/**/*.ts*")]
    newest = max(s.stat().st_mtime for s in sources)
    if not EXPORT.is_file() or EXPORT.stat().st_mtime < newest:
        pytest.fail("clients/mobile/dist is missing or stale: run `make mobile` (make test does)")


def _wait(driver, condition, timeout: float = 30):
    """Waits as the other browser tests do; a timeout fails with what the app showed then."""
    from selenium.common.exceptions import TimeoutException

    try:
        return _until(driver, condition, timeout)
    except TimeoutException:
        driver.save_screenshot(str(SCREENSHOTS / "mobile-failure.png"))
        pytest.fail(f"timed out; the app shows:\n{_text(driver)}")


def _control(driver, role: str, label: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'[role="{role}"][aria-label="{label}"]')


def _shown(driver, role: str, label: str) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, f'[role="{role}"][aria-label="{label}"]')
    return bool(found) and found[0].is_displayed()


def _text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def _pick(driver, paths: list[Path]) -> None:
    """expo-image-picker on the web adds a hidden file input and clicks it. Headless Chromium
    would cancel the file chooser at once; intercepted (CDP), it stays open, and the files are
    given to that input as a person would choose them."""
    from selenium.webdriver.common.by import By

    inputs = _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="file-input"]'))
    inputs[-1].send_keys("\n".join(str(p) for p in paths))


def _labels(driver, role: str) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll(`[role=${arguments[0]}]`)]"
        ".map(e => e.getAttribute('aria-label'))",
        role,
    )


def _checked(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('[role=checkbox][aria-checked=true]')]"
        ".map(e => e.getAttribute('aria-label'))"
    )


def test_sign_in_style_a_selfie_then_upload_an_album_and_see_its_people(
    browser,  # noqa: F811 (the fixture)
    backend,
    tmp_path,
):
    from selenium.webdriver.common.by import By

    built_export()
    browser.execute_cdp_cmd("Page.enable", {})
    browser.execute_cdp_cmd("Page.setInterceptFileChooserDialog", {"enabled": True})
    # The account: the app's own sign-up waits for the code Cognito mails, which moto never
    # sends; the local runtime's helper signs up and confirms (docs/local.md).
    user = User.sign_up(backend)
    browser.get(f"{backend.base_url}/mobile/")
    _wait(browser, lambda d: _shown(d, "button", "Sign in"), timeout=60)
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Email"]').send_keys(user.email)
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Password"]').send_keys(user.password)
    browser.save_screenshot(str(SCREENSHOTS / "mobile-sign-in.png"))
    _control(browser, "button", "Sign in").click()

    _wait(browser, lambda d: _shown(d, "button", "I agree"))
    browser.save_screenshot(str(SCREENSHOTS / "mobile-terms.png"))
    _control(browser, "button", "I agree").click()

    # The whole local catalogue, the first four picked; keep one (a quicker CPU swap).
    chips = "[role=checkbox]"
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, chips)) == len(seed.STYLES))
    picked = _checked(browser)
    assert len(picked) == 4, picked
    for label in picked[1:]:
        _control(browser, "checkbox", label).click()
    assert _checked(browser) == picked[:1]
    selfie = tmp_path / "selfie.jpg"
    selfie.write_bytes(jpeg(astronaut()))
    _control(browser, "button", "Choose a selfie").click()
    _pick(browser, [selfie])
    _wait(browser, lambda d: "Styling done." in _text(d) or "Styling failed" in _text(d), 300)
    assert "Styling done." in _text(browser), _text(browser)
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="result"]')) == 1)
    _wait(  # the result image loaded
        browser,
        lambda d: d.execute_script(
            "const i = document.querySelector('[data-testid=result] img');"
            "return !!i && i.complete && i.naturalWidth > 0"
        ),
    )
    browser.save_screenshot(str(SCREENSHOTS / "mobile-style.png"))

    _control(browser, "button", "Albums").click()
    name = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="New album name"]')
    _wait(browser, lambda d: "No albums yet" in _text(d))
    browser.save_screenshot(str(SCREENSHOTS / "mobile-albums.png"))
    name.send_keys("Phone album")
    _control(browser, "button", "Create album").click()
    _wait(browser, lambda d: "No photos yet: add some." in _text(d))
    photos = []
    for file_name, data in real_photos(ALBUM_PHOTOS):
        assert content_type(file_name) in ("image/jpeg", "image/png"), file_name
        photos.append(tmp_path / file_name)
        photos[-1].write_bytes(data)
    _control(browser, "button", "Add photos").click()
    _pick(browser, photos)
    _wait(browser, lambda d: _text(d).count(": uploaded") == ALBUM_PHOTOS, 120)
    bars = browser.find_elements(By.CSS_SELECTOR, '[role=progressbar][aria-label$=" upload"]')
    assert [b.get_attribute("aria-valuenow") for b in bars] == ["100"] * ALBUM_PHOTOS

    def status(d) -> str:
        found = d.find_elements(By.CSS_SELECTOR, '[data-testid="album-status"]')
        return found[0].text if found else ""

    done = f"Ready: {ALBUM_PHOTOS} photos, {ALBUM_PHOTOS} processed"
    _wait(browser, lambda d: status(d).startswith(done), 300)
    people = re.compile(r"^.+, \d+ faces?$")
    _wait(
        browser,
        lambda d: any(
            people.match(label or "")
            for label in d.execute_script(
                "return [...document.querySelectorAll('[role=checkbox]')]"
                ".map(e => e.getAttribute('aria-label'))"
            )
        ),
        120,
    )
    assert "No people found yet." not in _text(browser)
    browser.save_screenshot(str(SCREENSHOTS / "mobile-album.png"))

    # One person: name them, then share their photos (the count the API previews first).
    first = next(label for label in _labels(browser, "checkbox") if people.match(label))
    faces = first.rsplit(", ", 1)[1]
    _control(browser, "checkbox", first).click()
    field = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, 'input[aria-label="Name"]'))
    field[0].send_keys("Ada")
    _control(browser, "button", "Save name").click()
    _wait(browser, lambda d: f"Ada, {faces}" in _labels(d, "checkbox"))
    _wait(browser, lambda d: re.search(r"\d+ photos? of Ada will be shared\.", _text(d)))
    recipients = browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Recipients (emails)"]')
    recipients.send_keys("friend@example.com")
    _control(browser, "button", "Share").click()
    _wait(browser, lambda d: "with friend@example.com" in _text(d))
    # As on a phone, light and dark (the OS setting, here Chromium's emulated media).
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 1400, "deviceScaleFactor": 1, "mobile": True},
    )
    browser.save_screenshot(str(SCREENSHOTS / "mobile-people-light.png"))
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    dark = "rgb(16, 18, 21)"  # the dark palette's background (clients/mobile/src/ui.tsx)
    _wait(
        browser,
        lambda d: d.execute_script(
            "return [...document.querySelectorAll('div')]"
            ".some(e => getComputedStyle(e).backgroundColor === arguments[0])",
            dark,
        ),
    )
    browser.save_screenshot(str(SCREENSHOTS / "mobile-people-dark.png"))
