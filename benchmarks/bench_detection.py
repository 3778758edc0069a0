"""FaceFlow face detection recall: small faces in large photos, tilted faces, real group shots.

    .venv/bin/python benchmarks/bench_detection.py [--runs N]

Labelled faces, built from the registry photos (tests/faceflow_photos.py): every clear face of
the portraits and group shots, cut out as a head (1.6× its box) and pasted, at a known place,
size and tilt, on a 4032×3024 phone-size photo (scikit-image's `coffee`, enlarged: a textured
scene, not a backdrop). Each composite holds 12 faces of one size or tilt on a 4 × 3 grid. The
pipeline's own path runs on it: the photo decoded at ingestion's working size, then
facekit.analysis.find_faces (what DetectAlign calls). A labelled face is found when a detection
overlaps its box (IoU ≥ 0.3). Printed: recall by face width (pixels of the original) and by
tilt, with the detector's default single pass beside the tiled pass find_faces uses for photos
larger than the detector's input, and the cost of each per photo (median).

The real group shots (face-api's sample1-6, insightface's t1: 3–6 people each, counted by eye)
give recall on real, untouched photos.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

from faceflow.domain import ingest  # noqa: E402
from facekit import analysis, yunet  # noqa: E402
from tests import faceflow_photos  # noqa: E402

CANVAS = (4032, 3024)
WIDTHS = (24, 32, 48, 64, 96, 160)  # face box width in the original, pixels
TILTS = (0, 20, 35, 50, 70, 90)  # degrees, at a face width of 160
# People counted by eye in the real group shots (each face a different person).
GROUP_COUNTS = {
    "face_api/sample1.jpg": 3,
    "face_api/sample2.jpg": 3,
    "face_api/sample3.jpg": 3,
    "face_api/sample4.jpg": 4,
    "face_api/sample5.jpg": 5,
    "face_api/sample6.jpg": 4,
    "insightface_t1.jpg": 6,
}


def heads() -> list[Image.Image]:
    """Every clear face of the registry photos as a square head cut (1.6× its box)."""
    out = []
    for _, data in faceflow_photos.distinct_photos():
        image = faceflow_photos._upright(data)
        for face in yunet.detect_faces(np.asarray(image)):
            if face.eye_distance < 20:
                continue
            x, y, w, h = face.box
            side = 1.6 * max(w, h)
            cx, cy = x + w / 2, y + h / 2
            out.append(image.crop((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)))
    return out


def composite(people: list[Image.Image], width: int, tilt: float):
    """(JPEG bytes, labelled boxes) of 12 heads of face width `width`, tilted, on the canvas."""
    from skimage import data

    canvas = Image.fromarray(data.coffee()).resize(CANVAS, Image.Resampling.BICUBIC)
    boxes = []
    cell_w, cell_h = CANVAS[0] // 4, CANVAS[1] // 3
    for k, head in enumerate(people[:12]):
        side = round(width * 1.6)
        piece = head.resize((side, side), Image.Resampling.LANCZOS).convert("RGBA")
        piece = piece.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True)
        cx = (k % 4) * cell_w + cell_w // 2
        cy = (k // 4) * cell_h + cell_h // 2
        canvas.paste(piece, (cx - piece.width // 2, cy - piece.height // 2), piece)
        boxes.append((cx - width / 2, cy - width / 2, width, width))
    return faceflow_photos._jpeg(canvas, 92), boxes


def iou(a, b) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax1, bx1) - max(a[0], b[0])) * max(0.0, min(ay1, by1) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def found_in(data: bytes, single_pass: bool) -> tuple[list[tuple], float]:
    photo = ingest.ingest_photo(data, max_bytes=64 * 1024 * 1024)
    started = time.perf_counter()
    if single_pass:
        detected = [f.scaled(1 / photo.scale) for f in yunet.detect_faces(photo.rgb)]
    else:
        detected = [f.face for f in analysis.find_faces(photo.rgb, scale=photo.scale)]
    return [f.box for f in detected], time.perf_counter() - started


def recall(data: bytes, labels, single_pass: bool) -> tuple[int, float]:
    boxes, seconds = found_in(data, single_pass)
    return sum(any(iou(label, box) >= 0.3 for box in boxes) for label in labels), seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.parse_args()
    people = heads()
    if len(people) < 12:
        print("missing the registry photos: run scripts/fetch_photos.py", file=sys.stderr)
        return 1
    cost = {True: [], False: []}
    print(f"composites {CANVAS[0]}×{CANVAS[1]}, 12 real faces each ({len(people)} heads)")
    print(f"{'case':<22} {'single pass':>12} {'find_faces':>12}")
    for label, width, tilt in [
        *((f"face {w} px wide", w, 0) for w in WIDTHS),
        *((f"tilt {t}°", 160, t) for t in TILTS[1:]),
    ]:
        data, boxes = composite(people, width, tilt)
        row = []
        for single in (True, False):
            hits, seconds = recall(data, boxes, single)
            cost[single].append(seconds)
            row.append(f"{hits}/{len(boxes)}")
        print(f"{label:<22} {row[0]:>12} {row[1]:>12}")
    for single in (True, False):
        name = "single pass" if single else "find_faces"
        print(f"  {name}: {statistics.median(cost[single]) * 1000:.0f} ms per 12 MP photo (median)")
    total = {True: 0, False: 0}
    for name, data in faceflow_photos.distinct_photos(list(GROUP_COUNTS)):
        for single in (True, False):
            boxes, _ = found_in(data, single)
            total[single] += min(len(boxes), GROUP_COUNTS[name])
    people_total = sum(GROUP_COUNTS.values())
    print(
        f"real group shots ({people_total} people): single pass {total[True]}/{people_total}, "
        f"find_faces {total[False]}/{people_total} (detections counted up to the people there)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
