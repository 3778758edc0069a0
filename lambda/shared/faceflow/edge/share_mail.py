"""The share email flow: one SES templated email per recipient not emailed yet (the template's
content: faceflow.domain.share_mail), each recorded right after it went out."""

from __future__ import annotations

import json
from typing import Any

from faceflow.domain.share_mail import template_data
from faceflow.storage import messages, shares


def send_all(item: dict[str, Any], link: str) -> list[str]:
    """Email each recipient not emailed yet; each one is recorded right after its email went
    out (a retry resends at most the email whose record failed)."""
    done = set(item.get("notified") or ())
    data = json.dumps(template_data(item, link))
    sent = []
    for address in item["recipients"]:
        if address in done:
            continue
        messages.send_share_email(address, data)
        shares.record_notified(item["albumId"], item["shareId"], address)
        sent.append(address)
    return sent
