"""The share email's content: one SES templated email per recipient (who shared, what, the
link, until when). The template's parts are defined here once: the stack creates the SES template
from TEMPLATE, the exporter (faceflow.edge.share_mail) fills it with `template_data`.

Every value put in the template is plain text without markup or braces (shares.display_text; the
link is ours), so the HTML part needs no escaping whatever the template engine does.
"""

from __future__ import annotations

from typing import Any

from faceflow.domain.ids import parse_iso
from faceflow.domain.shares import display_text

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
    expires = parse_iso(item["expiresAt"])
    return {
        "sharedBy": display_text(item.get("sharedBy") or "A FaceFlow user"),
        "albumName": display_text(item.get("albumName") or "photos"),
        "photoCount": str(int(item["photoCount"])),
        "link": link,
        "expiresAt": f"{expires:%Y-%m-%d %H:%M} UTC",
    }
