"""GET /apis/styles: the active base resources with presigned image URLs."""

from __future__ import annotations

from typing import Any

from style_backend.domain.styles import STYLE_FIELDS
from style_backend.storage import objects
from style_backend.storage.styles import StyleCatalog, image_key


def listing() -> dict[str, Any]:
    """The GET /apis/styles body: active styles with presigned image URLs."""
    return {
        "items": [
            {
                **{f: item.get(f, "") for f in STYLE_FIELDS},
                "imageUrl": objects.presigned_get(image_key(item)),
            }
            for item in StyleCatalog().active()
        ]
    }
