"""Seed base resources: upload a folder of style images and write their BaseResource items.

    python -m style_backend.seeding FOLDER [--bucket B] [--table T]

FOLDER holds the images and a `styles.json` manifest:

    {"styles": [{"resourceId": "street-f-medium", "file": "street.png", "theme": "street",
                 "gender": "female", "skinTone": "medium", "active": true}, …]}

Each image is decoded, turned upright (EXIF), converted to RGB, bounded to 2048 px and re-encoded
as JPEG to `base/{resourceId}.jpg`: whatever the source was, the bucket holds one clean format
without metadata. Seeding again overwrites (same ids → same keys and items).

Every image must also show what a swap needs (`check_style_face`, on the JPEG as stored): exactly
one clear main face (YuNet), large enough, its head turned and tilted no more than the engines
handle. One image that fails stops the whole seeding with its file and the reason, before
anything is written. This module is the seeding path everywhere: the local runtime runs it, and
so does an operator against AWS (docs/api.md); there is no other.
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

from common import aws
from style_backend import config, keys
from style_backend.config import EnvVar
from style_backend.styles import RESOURCE_ID_PATTERN, style_key

MANIFEST = "styles.json"
MAX_SIDE = 2048
JPEG_QUALITY = 90

# Head pose a style may have (facekit.pose.steady_head_pose degrees), measured by
# benchmarks/bench_style_pose.py on the 39 faces of the registry photos, each framed as a style
# and swapped by the CPU engine (the Face Mesh warp; pass: the engine finds the face, the result
# is nearer the uploader than the style's person, landmarks within 0.15 eye distances of the
# style's). In 10° windows from frontal, faces pass more often than not up to the limit:
# |yaw| (faces within the pitch limit) 10/12, 6/8, 5/8, then 2/5 at 30–40°; |pitch| (within
# the yaw limit) 14/16, 7/12, then 0/2 at 20–30°. Rerun the benchmark when an engine changes:
# the limits are the engines', not the estimator's.
MAX_STYLE_YAW = 30.0
MAX_STYLE_PITCH = 20.0
# Eye distance in the stored image: a style is a portrait, not a distant figure (the local
# frames have ~130 px); at 64 px YuNet's landmarks already drift 7.6 % of it (5.5 % at 96;
# bench_style_pose.py), which the swap's warp copies.
MIN_STYLE_EYE_DISTANCE = 64.0
# A second face at least this fraction of the main face's area competes with it: which person
# the engine swaps would be a coin toss.
RIVAL_FACE_AREA = 0.5
# "Clear": YuNet's confidence (true faces 0.75–0.96, facekit.yunet) and the aligned crop's
# sharpness (facekit.quality: below it a face has lost its identity detail).
MIN_STYLE_FACE_SCORE = 0.8


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


def check_style_face(jpeg: bytes, name: str) -> dict[str, float]:
    """The style's main face measures (eye distance, yaw, pitch), or SeedError saying why the
    image cannot be a style."""
    from facekit import alignment, faces, imaging, pose, quality, yunet  # seeding only

    rgb = imaging.decode_image(jpeg, max_pixels=faces.MAX_PIXELS, max_bytes=len(jpeg)).rgb
    found = yunet.detect_faces(rgb, max_side=MAX_SIDE)
    if not found:
        raise SeedError(f"{name}: no face found; a style shows one person's face")
    main = found[0]
    rivals = [f for f in found[1:] if f.area >= RIVAL_FACE_AREA * main.area]
    if rivals:
        raise SeedError(
            f"{name}: {len(rivals) + 1} faces of similar size; a style shows one main person "
            "(others at most half as large)"
        )
    if main.eye_distance < MIN_STYLE_EYE_DISTANCE:
        raise SeedError(
            f"{name}: the face is too small ({main.eye_distance:.0f} px between the eyes, at "
            f"least {MIN_STYLE_EYE_DISTANCE:.0f}); frame the person closer"
        )
    matrix = alignment.template_matrix(main.landmarks, alignment.ARCFACE_TEMPLATE_112, 112)
    sharp = quality.sharpness(faces.warp_affine(rgb, matrix, 112, resample="bilinear"))
    if main.score < MIN_STYLE_FACE_SCORE or sharp < quality.MIN_SHARPNESS:
        raise SeedError(
            f"{name}: the face is not clear (confidence {main.score:.2f}, sharpness "
            f"{sharp:.0f}); use a sharp, well-lit photo"
        )
    head = pose.steady_head_pose(rgb, main, max_side=MAX_SIDE)
    if abs(head.yaw) > MAX_STYLE_YAW or abs(head.pitch) > MAX_STYLE_PITCH:
        raise SeedError(
            f"{name}: the head is turned {head.yaw:+.0f}° and tilted {head.pitch:+.0f}°; the "
            f"swap handles at most ±{MAX_STYLE_YAW:g}° and ±{MAX_STYLE_PITCH:g}°"
        )
    return {"eyeDistance": main.eye_distance, "yaw": head.yaw, "pitch": head.pitch}


def seed_styles(
    sources: list[StyleSource], bucket: str | None = None, table_name: str | None = None
) -> list[dict[str, Any]]:
    """Upload each image and write its item; returns the items written."""
    bucket = bucket or config.get(EnvVar.BUCKET_NAME)
    table = aws.table(table_name or config.get(EnvVar.BASE_RESOURCE_TABLE))
    s3 = aws.client("s3")
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
