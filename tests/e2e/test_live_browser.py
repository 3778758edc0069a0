"""The local page on live progress, in headless Chromium: an album open on the page follows a job
another device started, from pushes alone (no status polling), and after its socket is dropped
the page connects again and still follows."""

from __future__ import annotations

import time

import pytest
import requests

from local.album_client import AlbumUser
from local.photos import astronaut
from tests import hostile
from tests.e2e.test_albums_browser import _open_page_as
from tests.e2e.test_browser import _wait, browser  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

# Before the page's own scripts: every fetch it makes, and every status the album line shows.
RECORDER = """
window.__fetches = [];
const plainFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  window.__fetches.push(input instanceof Request ? input.method + " " + input.url : "GET " + input);
  return plainFetch(input, init);
};
window.__statuses = [];
new MutationObserver(() => {
  const line = document.getElementById("album-status");
  const shown = line && line.dataset.status;
  if (shown && window.__statuses.at(-1) !== shown) window.__statuses.push(shown);
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-status"] });
window.__liveStates = [];
window.addEventListener("live-state", (event) => window.__liveStates.push(event.detail));
"""


def _live(d) -> bool:
    return d.execute_script("return document.getElementById('live-state').dataset.state") == "open"


def _line(d) -> str:
    return d.execute_script("return document.getElementById('album-status').textContent")


def _open_album(browser, backend, user: AlbumUser) -> None:  # noqa: F811
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    _open_page_as(browser, backend, user)
    _wait(browser, _live)
    _wait(browser, lambda d: _line(d).startswith("IDLE"))


def test_an_open_album_follows_a_job_from_pushes_without_polling(browser, backend):  # noqa: F811
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Pushed")
    _open_album(browser, backend, user)
    before = browser.execute_script("return window.__fetches.length")
    user.upload(album, hostile.jpeg(astronaut()), "astronaut.jpg")  # as another device would
    _wait(browser, lambda d: _line(d).startswith("IDLE: 1 photos, 1 processed"), timeout=240)
    fetches = browser.execute_script("return window.__fetches.slice(arguments[0])", before)
    statuses = browser.execute_script("return window.__statuses")
    assert "PROCESSING" in statuses and statuses[-1] == "IDLE", statuses
    # One status read: the one the IDLE push asks for (jobs, people). A page polling each second
    # for the run's seconds would read it every second.
    assert sum(f.endswith(f"/albums/{album}/status") for f in fetches) == 1, fetches
    assert browser.find_element("id", "message").text == ""


def test_a_dropped_socket_opens_again_and_the_page_still_follows(browser, backend):  # noqa: F811
    user = AlbumUser.sign_up(backend)
    album = user.create_album("Dropped")
    _open_album(browser, backend, user)
    table = backend.environment_of("connections.connect")["CONNECTIONS_TABLE"]
    ddb = backend.client("dynamodb")
    (connection,) = [
        item["connectionId"]["S"]
        for item in ddb.scan(TableName=table)["Items"]
        if item["userId"]["S"] == user.sub
    ]
    states = "return window.__liveStates.slice(arguments[0])"
    seen = browser.execute_script("return window.__liveStates.length")
    # The management API's DELETE: API Gateway closes the socket, as when it drops.
    ws = backend.client_config().websocketUrl.replace("ws://", "http://")
    assert requests.delete(f"{ws}/@connections/{connection}", timeout=10).status_code == 204
    _wait(browser, lambda d: d.execute_script(states, seen)[-1:] == ["open"], timeout=30)
    assert browser.execute_script(states, seen)[0] == "closed"  # dropped, then open again
    time.sleep(0.5)
    user.upload(album, hostile.jpeg(astronaut()), "after.jpg")
    _wait(browser, lambda d: _line(d).startswith("IDLE: 1 photos, 1 processed"), timeout=240)


# A network that lets no WebSocket through (some proxies): every socket fails at once.
NO_WEBSOCKETS = """
window.WebSocket = class {
  constructor() { setTimeout(() => this.onclose?.({ code: 1006 }), 0); }
  close() {}
};
"""


def test_without_websockets_the_page_polls_and_still_follows(browser, backend, tmp_path):  # noqa: F811
    user = AlbumUser.sign_up(backend)
    user.create_album("Polled")
    photo = tmp_path / "polled.jpg"
    photo.write_bytes(hostile.jpeg(astronaut()))
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NO_WEBSOCKETS})
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    _open_page_as(browser, backend, user)
    _wait(browser, lambda d: _line(d).startswith("IDLE"))
    browser.find_element("id", "album-files").send_keys(str(photo))
    browser.find_element("id", "album-upload").click()
    _wait(browser, lambda d: _line(d).startswith("IDLE: 1 photos, 1 processed"), timeout=240)
    # No socket ever opened: the page got there by polling the status route.
    assert "open" not in browser.execute_script("return window.__liveStates")
    assert browser.find_element("id", "live-state").text == "polling"
