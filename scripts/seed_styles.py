"""Seed the base resources (style images) of a running backend.

    python scripts/seed_styles.py FOLDER            # a folder with styles.json (docs/api.md)
    python scripts/seed_styles.py --demo [FOLDER]   # write demo styles into FOLDER, then seed

Bucket and table come from BUCKET_NAME / BASE_RESOURCE_TABLE (or --bucket / --table); endpoints
from AWS_ENDPOINT_URL, so the same command seeds the local runtime or a deployed stack.

The demo styles are variations (tone, framing, mirror) of a public-domain NASA portrait shipped in
scikit-image's wheel: every one holds a face, which a face swap needs, and nothing is downloaded.
Nothing here is imported by a Lambda function.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lambda" / "shared")]

from style_backend.seeding import MANIFEST, SeedError, load_manifest, seed_styles  # noqa: E402

# resourceId → (theme, gender, skinTone, variation)
DEMO_STYLES = {
    "classic-f-light": ("classic", "female", "light", "original"),
    "noir-f-light": ("noir", "female", "light", "grayscale"),
    "retro-f-light": ("retro", "female", "light", "sepia"),
    "pop-f-light": ("pop", "female", "light", "saturated"),
    "portrait-f-light": ("portrait", "female", "light", "mirrored-close"),
}


def write_demo_styles(folder: Path) -> Path:
    """Write demo style images and their styles.json into `folder`; returns the folder."""
    from PIL import Image, ImageEnhance, ImageOps
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    variations = {
        "original": lambda im: im,
        "grayscale": lambda im: ImageOps.autocontrast(ImageOps.grayscale(im)).convert("RGB"),
        "sepia": lambda im: ImageOps.colorize(ImageOps.grayscale(im), "#2b1d0e", "#f4e1c1"),
        "saturated": lambda im: ImageEnhance.Color(im).enhance(1.8),
        "mirrored-close": lambda im: ImageOps.mirror(im.crop((96, 0, 416, 320)).resize((512, 512))),
    }
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for resource_id, (theme, gender, skin_tone, variation) in DEMO_STYLES.items():
        name = f"{resource_id}.png"
        variations[variation](photo).save(folder / name)
        entries.append(
            {
                "resourceId": resource_id,
                "file": name,
                "theme": theme,
                "gender": gender,
                "skinTone": skin_tone,
                "active": True,
            }
        )
    (folder / MANIFEST).write_text(json.dumps({"styles": entries}, indent=2) + "\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--demo", action="store_true", help="write demo styles first")
    parser.add_argument("--bucket")
    parser.add_argument("--table")
    args = parser.parse_args(argv)
    if not args.demo and args.folder is None:
        parser.error("give a FOLDER, or --demo")
    try:
        with tempfile.TemporaryDirectory(prefix="demo-styles-") as scratch:
            folder = args.folder or Path(scratch)
            if args.demo:
                write_demo_styles(folder)
            items = seed_styles(load_manifest(folder), args.bucket, args.table)
    except SeedError as err:
        print(f"seeding failed: {err}", file=sys.stderr)
        return 1
    for item in items:
        print(f"{item['resourceId']}\t{item['imageKey']}\t{item['styleKey']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
