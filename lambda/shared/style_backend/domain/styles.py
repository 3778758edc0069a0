"""Style rules: the base resources a user picks from, and what an image must show to be one.

A style's manifest entry names its id, file, theme, gender and skin tone. Every image must show
what a swap needs (`check_style_face`, on the JPEG as stored): exactly one clear main face (YuNet),
large enough, its head turned and tilted no more than the engines handle. Seeding
(style_backend.edge.seeding) applies these rules before it writes anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from style_backend.domain.errors import UnknownStyle

STYLE_FIELDS = ("resourceId", "theme", "gender", "skinTone")
# A resource id: a full match (a trailing newline is not part of an id).
RESOURCE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MANIFEST = "styles.json"
MAX_SIDE = 2048  # pixels of a stored style image, at most

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


def require_active(resource_ids: list[str], found: Mapping[str, Mapping[str, Any]]) -> None:
    """UnknownStyle naming every requested id that is missing or inactive in `found`."""
    unknown = [r for r in resource_ids if not found.get(r, {}).get("active")]
    if unknown:
        raise UnknownStyle(f"Unknown or inactive style(s): {', '.join(unknown)}.")


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
