"""The local outbox: every email the functions sent through the local SES (moto keeps them),
rendered as the recipient would read it. Served at GET /local/outbox (local only, like
/local/auth): `{"items": [{"messageId", "from", "to", "subject", "text", "html", "links"}]}`,
newest first."""

from __future__ import annotations

import json
import re
from typing import Any

_LINK = re.compile(r"https?://[^\s\"'<>]+")


def sent_emails(region: str) -> list[dict[str, Any]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import Message, TemplateMessage, ses_backends
    from moto.ses.template import parse_template

    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    items = []
    for message in list(backend.sent_messages):
        if isinstance(message, TemplateMessage):
            template = backend.templates.get(message.template) or {}
            data = json.loads(message.template_data or "{}")
            subject, text, html = (
                parse_template(str(template.get(part) or ""), data)
                for part in ("subject_part", "text_part", "html_part")
            )
        elif isinstance(message, Message):
            subject, text, html = message.subject, message.body, ""
        else:
            continue  # raw messages: none of the functions sends one
        to = [a for addresses in message.destinations.values() for a in addresses]
        items.append(
            {
                "messageId": message.id,
                "from": message.source,
                "to": to,
                "subject": subject,
                "text": text,
                "html": html,
                "links": _LINK.findall(text),
            }
        )
    return list(reversed(items))
