"""Per photo: decode + detect + align + embed against its floor (model inference alone), and
the measurements behind facekit.quality's thresholds.

    .venv/bin/python benchmarks/bench_faces.py [--runs N]

Timing, medians over the registry photos × runs, one process: `pipeline` is what FaceFlow's
DetectAlign + Embed steps do per photo (decode at 1536, YuNet on a 960-long copy, alignment,
quality, SFace per face); `floor` is YuNet's forward pass on that copy plus SFace's per face,
nothing else.

Quality: each sharp registry portrait is degraded (Gaussian blur of σ px on the aligned crop's
source; downscaled so its eyes are d px apart) and its embedding compared with the sharp one's.
Same-person similarities of different photos of one person are ≥ 0.60 here, so a face whose own
vector drifts below ~0.75 of itself has lost what clustering needs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]

import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from faceflow.domain import ingest  # noqa: E402
from facekit import analysis, embedding, quality, yunet  # noqa: E402
from facekit.imaging import decode_image  # noqa: E402
from tests import faceflow_photos  # noqa: E402


def timing(runs: int) -> None:
    import cv2

    photos = faceflow_photos.distinct_photos()
    embedder = embedding.get_embedder()
    embedding.warm_up()  # its network loads on first use: not inside a timing
    yunet.warm_up()
    pipeline, floor, faces_seen = [], [], 0
    for _ in range(runs):
        for _, data in photos:
            t = time.perf_counter()
            decoded = decode_image(
                data, max_pixels=ingest.MAX_PIXELS, max_bytes=1 << 26, target_max_side=1536
            )
            found = analysis.find_faces(decoded.rgb, scale=decoded.scale)
            analysis.embed_faces(found)
            pipeline.append(time.perf_counter() - t)
            faces_seen += len(found)

            h, w = decoded.rgb.shape[:2]
            factor = min(1.0, yunet.DETECT_MAX_SIDE / max(h, w))
            size = (round(w * factor), round(h * factor))
            small = cv2.resize(decoded.rgb[:, :, ::-1], size).astype(np.float32)
            crops = [f.crop for f in found]
            t = time.perf_counter()
            yunet.detect_at_size(small)  # the network and its decoding, nothing else
            embedder.embed(crops)
            floor.append(time.perf_counter() - t)
    p, f = statistics.median(pipeline), statistics.median(floor)
    print(f"photos {len(photos)} × {runs}, {faces_seen / runs:.0f} faces per pass")
    print(f"decode+detect+align+embed per photo: {p * 1000:.1f} ms median")
    print(f"floor (YuNet + SFace inference only): {f * 1000:.1f} ms median  ratio {p / f:.2f}×")


def _self_similarity(rgb: np.ndarray, reference: np.ndarray) -> tuple[float, float, float] | None:
    found = analysis.find_faces(rgb)
    if not found:
        return None
    vector = analysis.embed_faces(found[:1])[0]
    return float(vector @ reference), found[0].quality.sharpness, found[0].face.eye_distance


def quality_sweep() -> None:
    portraits = [
        (n, d) for n, d in faceflow_photos.distinct_photos() if n in faceflow_photos.photos.LABELLED
    ]
    print("blur σ (px, at the photo's working size) → median self-similarity, median sharpness")
    for sigma in (0, 1, 2, 3, 4, 6, 8):
        sims, sharp = [], []
        for _, data in portraits:
            rgb = decode_image(data, max_pixels=ingest.MAX_PIXELS, max_bytes=1 << 26).rgb
            found = analysis.find_faces(rgb)
            reference = analysis.embed_faces(found[:1])[0]
            # blur in proportion to the face: σ is given for an 80-px eye distance
            scaled = sigma * found[0].face.eye_distance / 80.0
            blurred = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(scaled)))
            r = _self_similarity(blurred, reference)
            if r:
                sims.append(r[0])
                sharp.append(r[1])
        print(
            f"  σ {sigma}: similarity {statistics.median(sims):.3f}  "
            f"sharpness {statistics.median(sharp):7.1f}  (min {min(sharp):.1f})  n={len(sims)}"
        )
    print("eye distance (px) → median self-similarity (faces pasted on grey, then detected)")
    for eyes in (48, 24, 16, 12, 10, 8, 6):
        sims, found_n = [], 0
        for _, data in portraits:
            rgb = decode_image(data, max_pixels=ingest.MAX_PIXELS, max_bytes=1 << 26).rgb
            found = analysis.find_faces(rgb)
            reference = analysis.embed_faces(found[:1])[0]
            factor = eyes / found[0].face.eye_distance
            image = Image.fromarray(rgb)
            tiny = image.resize(
                (max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                Image.Resampling.LANCZOS,
            )
            canvas = Image.new("RGB", (max(400, tiny.width + 100), max(400, tiny.height + 100)))
            canvas.paste(tiny, (50, 50))
            r = _self_similarity(np.asarray(canvas), reference)
            if r:
                sims.append(r[0])
                found_n += 1
        median = f"{statistics.median(sims):.3f}" if sims else "—"
        print(f"  {eyes:>2} px: similarity {median}  detected {found_n}/{len(portraits)}")
    print(
        f"thresholds in facekit.quality: MIN_EYE_DISTANCE {quality.MIN_EYE_DISTANCE}, "
        f"MIN_SHARPNESS {quality.MIN_SHARPNESS}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    if len(faceflow_photos.distinct_photos()) < 10:
        print("missing the registry photos: run scripts/fetch_photos.py", file=sys.stderr)
        return 1
    timing(args.runs)
    if not args.skip_quality:
        quality_sweep()
    return 0


if __name__ == "__main__":
    sys.exit(main())
