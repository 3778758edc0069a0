"""Seed base resources: upload a folder of style images and write their BaseResource items.

    python -m style_backend.edge.seeding FOLDER [--bucket B] [--table T]

FOLDER holds the images and a `styles.json` manifest:

    {"styles": [{"resourceId": "street-f-medium", "file": "street.png", "theme": "street",
                 "gender": "female", "skinTone": "medium", "active": true}, …]}

Each image is decoded, turned upright (EXIF), converted to RGB, bounded to 2048 px and re-encoded
as JPEG to `base/{resourceId}.jpg`: whatever the source was, the bucket holds one clean format
without metadata. Seeding again overwrites (same ids → same keys and items).

Every image must also show what a swap needs (style_backend.domain.styles.check_style_face, on
the JPEG as stored): exactly one clear main face (YuNet), large enough, its head turned and tilted
no more than the engines handle. One image that fails stops the whole seeding with its file and
the reason, before anything is written. This module is the seeding path everywhere: the local
runtime runs it, and so does an operator against AWS (docs/api.md); there is no other.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from style_backend.domain.styles import (
    MAX_SIDE,
    SeedError,
    StyleSource,
    check_style_face,
    load_manifest,
)
from style_backend.storage import keys, objects
from style_backend.storage.styles import StyleCatalog

JPEG_QUALITY = 90


def to_jpeg(data: bytes, name: str) -> bytes:
    """Re-encode any image Pillow reads as an upright RGB JPEG of at most MAX_SIDE pixels."""
    from PIL import Image, ImageOps, UnidentifiedImageError  # seeding only: not in API Lambdas

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as err:
        raise SeedError(f"{name}: not a readable image ({err})") from None
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def seed_styles(
    sources: list[StyleSource], bucket: str | None = None, table_name: str | None = None
) -> list[dict[str, Any]]:
    """Upload each image and write its item; returns the items written."""
    bucket = bucket or objects.bucket()
    catalog = StyleCatalog(table_name)
    encoded = []  # every image is read, re-encoded and checked before anything is written
    for source in sources:
        try:
            data = source.file.read_bytes()
        except OSError as err:
            raise SeedError(f"{source.file}: {err.strerror}") from None
        jpeg = to_jpeg(data, source.file.name)
        check_style_face(jpeg, source.file.name)
        encoded.append((source, jpeg))
    items = []
    for source, jpeg in encoded:
        image_key = keys.base_key(source.resource_id)
        objects.put(bucket, image_key, jpeg, "image/jpeg")
        item = {
            "resourceId": source.resource_id,
            "theme": source.theme,
            "gender": source.gender,
            "skinTone": source.skin_tone,
            "imageKey": image_key,
            "active": source.active,
            "styleKey": keys.style_key(source.theme, source.gender, source.skin_tone),
        }
        catalog.put(item)
        items.append(item)
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m style_backend.edge.seeding", description=__doc__
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--bucket", help="default: $BUCKET_NAME")
    parser.add_argument("--table", help="default: $BASE_RESOURCE_TABLE")
    args = parser.parse_args(argv)
    try:
        items = seed_styles(load_manifest(args.folder), args.bucket, args.table)
    except SeedError as err:
        print(f"seeding failed: {err}", file=sys.stderr)
        return 1
    for item in items:
        print(f"{item['resourceId']}\t{item['imageKey']}\t{item['styleKey']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
