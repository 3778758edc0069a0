"""A Python client of the local backend that behaves like the web page: tokens from the local
sign-up helper, then only the API (under its stage) and presigned S3 URLs. Used by the end-to-end
tests and the benchmarks."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    import numpy as np

    from local.runtime import LocalBackend

TERMINAL = {"COMPLETED", "FAILED"}


class UnexpectedResponse(AssertionError):
    """The backend answered another status than the flow expects (tests report it as a failure)."""


def _expect(response: requests.Response, *statuses: int) -> None:
    if response.status_code not in statuses:
        request = f"{response.request.method} {response.url}"
        raise UnexpectedResponse(f"{request}: {response.status_code} {response.text[:500]}")


@dataclass
class User:
    """One person using the API over HTTP."""

    base_url: str
    api_url: str
    email: str = field(default_factory=lambda: f"user-{uuid.uuid4().hex[:10]}@example.com")
    password: str = "Corr3ct-Horse-Battery"
    token: str = ""
    sub: str = ""
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def sign_up(cls, backend: LocalBackend) -> User:
        return cls.sign_up_at(backend.base_url, backend.client_config().apiUrl)

    @classmethod
    def sign_up_at(cls, base_url: str, api_url: str) -> User:
        """A new user of the backend serving `base_url` (its API under `api_url`)."""
        user = cls(base_url.rstrip("/"), api_url.rstrip("/"))
        r = user.http.post(
            f"{user.base_url}/local/auth/signup",
            json={"email": user.email, "password": user.password},
            timeout=30,
        )
        r.raise_for_status()
        user.token = r.json()["idToken"]
        payload = user.token.split(".")[1]
        user.sub = json.loads(_b64url(payload))["sub"]
        return user

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(
            method,
            f"{self.api_url}{path}",
            json=body,
            headers={"Authorization": self.token},
            timeout=60,
        )

    def agree(self) -> None:
        version = self.call("GET", "/agree").json()["termsVersion"]
        r = self.call("POST", "/agree", {"termsVersion": version})
        _expect(r, 201)

    def styles(self) -> list[dict[str, Any]]:
        r = self.call("GET", "/apis/styles")
        _expect(r, 200)
        return r.json()["items"]

    def upload(self, data: bytes, resource_ids: list[str], content_type: str = "image/jpeg") -> str:
        """Start a process and post the photo to its presigned form; returns the process id."""
        ticket = self.start_process(resource_ids, content_type)
        _expect(self.post_selfie(ticket, data, content_type), 200, 201, 204)
        return ticket["processId"]

    def start_process(
        self, resource_ids: list[str], content_type: str = "image/jpeg"
    ) -> dict[str, Any]:
        """POST /apis/images/upload: the process id and its presigned form."""
        r = self.call(
            "POST",
            "/apis/images/upload",
            {"contentType": content_type, "resourceIds": resource_ids},
        )
        _expect(r, 201)
        return r.json()

    def post_selfie(
        self, ticket: dict[str, Any], data: bytes, content_type: str = "image/jpeg"
    ) -> requests.Response:
        """The photo posted to the ticket's presigned form (S3's answer, unchecked)."""
        return requests.post(
            ticket["upload"]["url"],
            data=ticket["upload"]["fields"],
            files={"file": ("selfie", data, content_type)},
            timeout=60,
        )

    def progress(self, process_id: str) -> dict[str, Any]:
        r = self.call("GET", f"/apis/images/{self.sub}/processes/{process_id}")
        _expect(r, 200)
        return r.json()

    def wait(self, process_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.progress(process_id)
            if state["status"] in TERMINAL:
                return state
            time.sleep(0.5)
        raise TimeoutError(f"{process_id} still {state['status']} after {timeout}s: {state}")

    def results(self) -> list[dict[str, Any]]:
        r = self.call("GET", f"/apis/images/{self.sub}?limit=50")
        _expect(r, 200)
        return r.json()["items"]


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
