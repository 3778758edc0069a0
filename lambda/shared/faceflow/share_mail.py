"""The share email: one SES templated email per recipient (who shared, what, the link, until
when). The template's parts are defined here once: the stack creates the SES template from
TEMPLATE, the exporter fills it with `template_data`.

Recipients never see each other (one email each, a single To address). Every value put in the
template is plain text without markup or braces (sharing.display_text; the link is ours), so the
HTML part needs no escaping whatever the template engine does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from common import aws
from faceflow import sharing
from faceflow.album_env import AlbumEnv, get
from faceflow.albums import table

TEMPLATE = {
    "SubjectPart": "{{sharedBy}} shared {{photoCount}} photos with you",
    "TextPart": (
        "{{sharedBy}} shared {{photoCount}} photos from the album {{albumName}} with you.\n\n"
        "Download them (one ZIP archive): {{link}}\n\n"
        "The link works until {{expiresAt}}.\n"
    ),
    "HtmlPart": (
        "<p>{{sharedBy}} shared {{photoCount}} photos from the album "
        "<strong>{{albumName}}</strong> with you.</p>"
        '<p><a href="{{link}}">Download the photos</a> (one ZIP archive).</p>'
        "<p>The link works until {{expiresAt}}.</p>"
    ),
}


def template_data(item: dict[str, Any], link: str) -> dict[str, str]:
    expires = datetime.fromisoformat(item["expiresAt"].replace("Z", "+00:00"))
    return {
        "sharedBy": sharing.display_text(item.get("sharedBy") or "A FaceFlow user"),
        "albumName": sharing.display_text(item.get("albumName") or "photos"),
        "photoCount": str(int(item["photoCount"])),
        "link": link,
        "expiresAt": f"{expires:%Y-%m-%d %H:%M} UTC",
    }


def send_all(item: dict[str, Any], link: str) -> list[str]:
    """Email each recipient not emailed yet; each one is recorded right after its email went
    out (a retry resends at most the email whose record failed)."""
    done = set(item.get("notified") or ())
    data = json.dumps(template_data(item, link))
    sent = []
    for address in item["recipients"]:
        if address in done:
            continue
        aws.client("ses").send_templated_email(
            Source=get(AlbumEnv.SHARE_SENDER),
            Destination={"ToAddresses": [address]},
            Template=get(AlbumEnv.SHARE_TEMPLATE),
            TemplateData=data,
        )
        table().update_item(
            Key=sharing.share_key(item["albumId"], item["shareId"]),
            UpdateExpression="ADD notified :one",
            ExpressionAttributeValues={":one": {address}},
        )
        sent.append(address)
    return sent
