"""Swap quality over every uploader × style pair of the real photos, as face-swapping papers
measure it (FaceShifter, SimSwap): identity, pose and expression, seam (facekit.swap_quality).

    .venv/bin/python benchmarks/bench_swap_quality.py [--styles auto|catalogue|registry]
        [--methods paste,similarity,mesh] [--blend feather] [--save DIR]

Uploaders: the astronaut and the largest portrait of each labelled person (local/photos.py),
cropped as the pipeline crops an upload (facekit.faces.crop_main_face); the crop is what the
engine receives. Styles: the seeded catalogue (local/seed.py) without any style whose person is
an uploader; with fewer than MIN_STYLES of those (`auto`), or with `registry`, the largest face of
each registry group photo, framed as a portrait.

Methods: `paste` puts the uploader's face on the style's without warping (scaled to the eye
distance and centred, hard edge, no colour match): the baseline. `similarity` is the 5-point
similarity warp; `mesh` the engine's default, the Face Mesh piecewise-affine warp (both with the
engine's mask, colour/lighting match and blend).

Per method: median and worst of SFace cosine result↔uploader and result↔style person, of the
margin between them, of the pose error (5-point and 468-point NME; yaw/pitch/roll difference,
degrees) and of the seam score; how many results are nearer the uploader; swap time.
Needs the photos and models of scripts/fetch_photos.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "shared"), str(ROOT / "byoc" / "facechain")]

from facechain_serving.engines.cpu import CpuEngine, paste  # noqa: E402
from facechain_serving.request import SwapOptions  # noqa: E402
from PIL import Image  # noqa: E402

from facekit import faces, swap_quality  # noqa: E402
from local import photos  # noqa: E402

MIN_STYLES = 6
# SFace cosine at or above this: the same person (so a catalogue style showing an uploader is not
# a fair style for this measure).
SAME_PERSON = 0.4
METHODS = ("paste", "similarity", "mesh")


@dataclass(frozen=True)
class Photo:
    name: str
    rgb: np.ndarray


def uploaders() -> list[Photo]:
    return [Photo(name, rgb) for name, rgb in photos.uploader_portraits()]


def registry_styles() -> list[Photo]:
    return [Photo(name, rgb) for name, rgb in photos.registry_styles()]


def catalogue_styles() -> list[Photo]:
    """The styles `make up` seeds (local/seed.py writes them with their manifest)."""
    from local.seed import write_style_folder

    with tempfile.TemporaryDirectory() as tmp:
        folder = write_style_folder(Path(tmp))
        manifest = json.loads((folder / "styles.json").read_text())["styles"]
        out = []
        for entry in manifest:
            with Image.open(folder / entry["file"]) as image:
                out.append(Photo(entry["resourceId"], np.asarray(image.convert("RGB"))))
    return out


def other_people(styles: list[Photo], people: list[Photo]) -> list[Photo]:
    """The styles whose face is none of `people`."""
    readings = [swap_quality.read_face(p.rgb) for p in people]
    kept = []
    for style in styles:
        face = swap_quality.read_face(style.rgb)
        if face is None:
            continue
        if all(r is None or swap_quality.cosine(face, r) < SAME_PERSON for r in readings):
            kept.append(style)
    return kept


def summary(values: list[float], worst_is_high: bool) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return f"{'-':>7} {'-':>7}"
    worst = max(finite) if worst_is_high else min(finite)
    return f"{statistics.median(finite):>7.3f} {worst:>7.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--styles", choices=("auto", "catalogue", "registry"), default="auto")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--blend", default=None, help="engine blend (default: the engine's)")
    parser.add_argument("--save", type=Path, help="write every result here as JPEG")
    args = parser.parse_args()

    people = uploaders()
    if len(people) < 2:
        sys.exit("no labelled photos: run scripts/fetch_photos.py first")
    styles: list[Photo] = []
    source_name = args.styles
    if args.styles in ("auto", "catalogue"):
        styles = other_people(catalogue_styles(), people)
        source_name = "catalogue"
    if args.styles == "registry" or (args.styles == "auto" and len(styles) < MIN_STYLES):
        styles, source_name = other_people(registry_styles(), people), "registry"
    crops = [Photo(p.name, faces.crop_main_face(p.rgb)[0]) for p in people]
    print(
        f"{len(crops)} uploaders × {len(styles)} {source_name} styles = "
        f"{len(crops) * len(styles)} pairs"
    )
    options = SwapOptions() if args.blend is None else SwapOptions(blend=args.blend)
    engines = {"similarity": CpuEngine("similarity"), "mesh": CpuEngine("mesh")}
    for engine in engines.values():
        engine.load()
    uploader_faces = {p.name: swap_quality.read_face(p.rgb) for p in people}
    style_faces = {s.name: swap_quality.read_face(s.rgb) for s in styles}
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)

    header = f"{'method':<11} {'metric':<24} {'median':>7} {'worst':>7}"
    rows = []
    for method in args.methods.split(","):
        to_uploader, to_style, margin, nme5, dense, yaw, pitch, roll, seam, took = (
            [] for _ in range(10)
        )
        nearer = missing = 0
        for crop in crops:
            for style in styles:
                started = time.perf_counter()
                if method == "paste":
                    result = paste(crop.rgb, style.rgb)
                else:
                    result = engines[method].swap(crop.rgb, style.rgb, options)
                took.append((time.perf_counter() - started) * 1000)
                if args.save:
                    Image.fromarray(result).save(
                        args.save / f"{method}-{crop.name}-{style.name}.jpg"
                    )
                theirs = style_faces[style.name]
                ours = swap_quality.read_face(result, near=theirs.centre)
                if ours is None:
                    missing += 1
                    continue
                up = swap_quality.cosine(ours, uploader_faces[crop.name])
                st = swap_quality.cosine(ours, theirs)
                to_uploader.append(up)
                to_style.append(st)
                margin.append(up - st)
                nearer += up > st
                error = swap_quality.pose_error(ours, theirs)
                nme5.append(error.nme5)
                dense.append(error.nme_mesh)
                yaw.append(error.yaw)
                pitch.append(error.pitch)
                roll.append(error.roll)
                seam.append(swap_quality.seam_score(result, style.rgb))
        total = len(crops) * len(styles)
        rows.append(
            (
                method,
                [
                    ("cos result↔uploader ↑", to_uploader, False),
                    ("cos result↔style ↓", to_style, True),
                    ("margin (upl − style) ↑", margin, False),
                    ("pose NME 5-point ↓", nme5, True),
                    ("pose NME 468-point ↓", dense, True),
                    ("yaw diff ° ↓", yaw, True),
                    ("pitch diff ° ↓", pitch, True),
                    ("roll diff ° ↓", roll, True),
                    ("seam score ↓", seam, True),
                    ("swap ms", took, True),
                ],
                f"nearer the uploader {nearer}/{total}, no face found in {missing}",
            )
        )
    print(header)
    for method, metrics, note in rows:
        for name, values, high in metrics:
            print(f"{method:<11} {name:<24} {summary(values, high)}")
        print(f"{method:<11} {note}")


if __name__ == "__main__":
    main()
