"""Decode cost of HEIC and AVIF against JPEG, for the same picture.

    .venv/bin/python benchmarks/bench_phone_formats.py [--runs N]

Pictures: pillow-heif's real iPhone 13 Pro HEIC (4032×3024, a grid of 512² tiles; fetched at
set-up, .cache/photos/pillow_heif/pug.heic), and face-api's real group photo sample1.jpg
(1920×1280). Each is re-encoded here as JPEG (quality 92, what a phone writes), AVIF and HEIC
(quality 85), so every format holds the same picture; the iPhone's own HEIC is timed as well.

Figures, medians over the runs (the formats take turns, so a busy machine slows all alike):
- decoder alone (the floor): Pillow open + load at full size, the bytes already in memory;
- ingest decode: facekit.imaging.decode_image towards FaceFlow's 1536 px working size, what the
  pipeline's ExtractEXIF step pays (JPEG is draft-decoded by libjpeg at 1/2 or 1/4; HEIC and AVIF
  have no such shortcut and decode every pixel first).
Ratios are against JPEG for the same picture. CPU seconds (this process's, libheif's threads
included) beside wall seconds.

Also what a share pays per photo to remove its location (faceflow.domain.location, the
metadata edited in place) on the real photos with GPS: the iPhone's and Xiaomi's HEICs,
face-api's sample1.jpg, and against decoding them (what a re-encode would at least cost).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

from PIL import Image  # noqa: E402

from faceflow.domain.ingest import WORKING_MAX_SIDE  # noqa: E402
from faceflow.domain.location import without_location  # noqa: E402
from facekit import imaging  # noqa: E402  (registers pillow-heif's HEIF opener)
from local.photos import PHOTO_CACHE, phone_photo  # noqa: E402

LIMITS = {"max_pixels": 50_000_000, "max_bytes": 50 * 1024 * 1024}


def encodings(picture: Image.Image) -> dict[str, bytes]:
    out = {}
    for fmt, params in (("JPEG", {"quality": 92}), ("AVIF", {"quality": 85}), ("HEIF", {})):
        buffer = io.BytesIO()
        picture.save(buffer, fmt, **({"quality": 85} | params))
        out[fmt] = buffer.getvalue()
    return out


def full_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def ingest_decode(data: bytes) -> None:
    imaging.decode_image(data, target_max_side=WORKING_MAX_SIDE, **LIMITS)


def medians(files: dict[str, bytes], runs: int) -> dict[tuple[str, str], tuple[float, float]]:
    steps = {"decoder alone": full_decode, "ingest decode": ingest_decode}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(runs):
        for step, fn in steps.items():
            for name, data in files.items():
                wall, cpu = time.perf_counter(), time.process_time()
                fn(data)
                sample = (time.perf_counter() - wall, time.process_time() - cpu)
                times.setdefault((step, name), []).append(sample)
    return {
        key: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
        for key, s in times.items()
    }


def report(title: str, files: dict[str, bytes], runs: int) -> None:
    print(f"\n{title}")
    figures = medians(files, runs)
    for step in ("decoder alone", "ingest decode"):
        base = figures[(step, "JPEG")][0]
        for name, data in files.items():
            wall, cpu = figures[(step, name)]
            print(
                f"  {step:14} {name:12} {len(data) / 1e6:6.2f} MB  {wall * 1000:7.1f} ms wall"
                f"  {cpu * 1000:7.1f} ms CPU  {wall / base:5.2f}× JPEG"
            )


def location_report(runs: int) -> None:
    files = {
        name: path.read_bytes()
        for name, path in (
            ("iPhone HEIC", phone_photo("pug.heic")),
            ("Xiaomi HEIC", phone_photo("xiaomi.heic")),
            ("sample1.jpg", PHOTO_CACHE / "face_api/sample1.jpg"),
        )
        if path is not None and path.exists()
    }
    print("\nlocation removed (in place) against a full decode, same file")
    for name, data in files.items():
        edit, decode = [], []
        for _ in range(runs):
            started = time.perf_counter()
            without_location(data)
            edit.append(time.perf_counter() - started)
            started = time.perf_counter()
            full_decode(data)
            decode.append(time.perf_counter() - started)
        edit_ms, decode_ms = statistics.median(edit) * 1000, statistics.median(decode) * 1000
        print(
            f"  {name:12} {len(data) / 1e6:5.2f} MB  removal {edit_ms:6.2f} ms"
            f"  decode {decode_ms:7.1f} ms  ({decode_ms / edit_ms:5.0f}× the removal)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    iphone = phone_photo("pug.heic")
    if iphone is not None:
        original = iphone.read_bytes()
        files = encodings(Image.open(io.BytesIO(original)).convert("RGB"))
        report("iPhone 13 Pro photo, 4032×3024", {**files, "iPhone HEIC": original}, runs)
    group = PHOTO_CACHE / "face_api/sample1.jpg"
    if group.exists():
        report("group photo, 1920×1280", encodings(Image.open(group).convert("RGB")), runs)
    if iphone is None and not group.exists():
        print("no photos: run scripts/fetch_photos.py (make's set-up)", file=sys.stderr)
        return 1
    location_report(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
