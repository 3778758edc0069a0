"""Seed base resources: upload a folder of style images and write their BaseResource items.

    python -m style_backend.seeding FOLDER [--bucket B] [--table T]

FOLDER holds the images and a `styles.json` manifest:

    {"styles": [{"resourceId": "street-f-medium", "file": "street.png", "theme": "street",
                 "gender": "female", "skinTone": "medium", "active": true}, …]}

Each image is decoded, turned upright (EXIF), converted to RGB, bounded to 2048 px and re-encoded
as JPEG to `base/{resourceId}.jpg`: whatever the source was, the bucket holds one clean format
without metadata. Seeding again overwrites (same ids → same keys and items).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from style_backend import aws, config, keys
from style_backend.config import EnvVar
from style_backend.styles import RESOURCE_ID_PATTERN, style_key

MANIFEST = "styles.json"
MAX_SIDE = 2048
JPEG_QUALITY = 90


class SeedError(ValueError):
    """The folder or manifest cannot be seeded as it is; nothing is written then."""


@dataclass(frozen=True)
class StyleSource:
    resource_id: str
    file: Path
    theme: str
    gender: str
    skin_tone: str
    active: bool = True


def load_manifest(folder: Path) -> list[StyleSource]:
    path = folder / MANIFEST
    try:
        entries = json.loads(path.read_text())["styles"]
    except FileNotFoundError:
        raise SeedError(f"{path} is missing") from None
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise SeedError(f"{path} is not a manifest: {err}") from None
    sources = []
    for i, entry in enumerate(entries):
        try:
            source = StyleSource(
                resource_id=str(entry["resourceId"]),
                file=folder / entry["file"],
                theme=str(entry["theme"]),
                gender=str(entry["gender"]),
                skin_tone=str(entry["skinTone"]),
                active=bool(entry.get("active", True)),
            )
        except (KeyError, TypeError) as err:
            raise SeedError(f"{path}: styles[{i}] lacks {err}") from None
        if not re.fullmatch(RESOURCE_ID_PATTERN, source.resource_id):
            raise SeedError(f"{path}: styles[{i}]: bad resourceId {source.resource_id!r}")
        sources.append(source)
    return sources


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
    bucket = bucket or config.get(EnvVar.BUCKET_NAME)
    table = aws.table(table_name or config.get(EnvVar.BASE_RESOURCE_TABLE))
    s3 = aws.client("s3")
    encoded = []  # every image is read and re-encoded before anything is written
    for source in sources:
        try:
            data = source.file.read_bytes()
        except OSError as err:
            raise SeedError(f"{source.file}: {err.strerror}") from None
        encoded.append((source, to_jpeg(data, source.file.name)))
    items = []
    for source, jpeg in encoded:
        image_key = keys.base_key(source.resource_id)
        s3.put_object(Bucket=bucket, Key=image_key, Body=jpeg, ContentType="image/jpeg")
        item = {
            "resourceId": source.resource_id,
            "theme": source.theme,
            "gender": source.gender,
            "skinTone": source.skin_tone,
            "imageKey": image_key,
            "active": source.active,
            "styleKey": style_key(source.theme, source.gender, source.skin_tone),
        }
        table.put_item(Item=item)
        items.append(item)
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m style_backend.seeding", description=__doc__)
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
