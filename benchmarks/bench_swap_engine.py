"""The CPU swap engine: time per swap and peak memory on 512² images, and identity kept.

    .venv/bin/python benchmarks/bench_swap_engine.py [--runs 9]

For each blend mode: the median and p90 of `CpuEngine.swap` (astronaut → each group person, both
upscaled to 512²; detection, warp, colour match and blend included), the peak RSS growth over the
loaded engine, and the dlib identity distances result↔source and result↔target over astronaut ×
six group faces, both directions (lower is closer; < 0.6 is dlib's "same person").
Needs the group photo (scripts/fetch_photos.py).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda" / "shared"), str(ROOT / "byoc" / "facechain")]

from facechain_serving.engines.cpu import CpuEngine  # noqa: E402
from facechain_serving.request import BLEND_MODES, SwapOptions  # noqa: E402
from PIL import Image  # noqa: E402

from facekit import swap_quality  # noqa: E402
from local.photos import astronaut, group_faces  # noqa: E402

SIDE = 512


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def at_side(rgb: np.ndarray, side: int = SIDE) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.LANCZOS))


def descriptor(rgb: np.ndarray) -> swap_quality.FaceReading:
    return swap_quality.read_face(rgb)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    people = [at_side(p) for p in group_faces()]
    if not people:
        sys.exit("no group photo: run scripts/fetch_photos.py first")
    source = at_side(astronaut())
    engine = CpuEngine()
    engine.load()
    engine.swap(source, people[0], SwapOptions())  # warm-up (first-call allocations)
    base_rss = peak_rss_mib()

    print(f"CPU engine, {SIDE}x{SIDE} source and target, {args.runs} runs per person")
    print(f"{'blend':<10} {'median ms':>9} {'p90 ms':>7} {'peak RSS +MiB':>13}")
    for blend in BLEND_MODES:
        options = SwapOptions(blend=blend)
        samples = []
        for _ in range(args.runs):
            for target in people:
                started = time.perf_counter()
                engine.swap(source, target, options)
                samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        p90 = samples[int(len(samples) * 0.9) - 1]
        growth = peak_rss_mib() - base_rss
        print(f"{blend:<10} {statistics.median(samples):>9.1f} {p90:>7.1f} {growth:>13.1f}")
    print(f"process peak RSS {peak_rss_mib():.0f} MiB (models loaded)")

    print("\nidentity (SFace cosine): result↔source vs result↔target; source↔target for scale")
    header = f"{'pair':<14} {'blend':<10} {'→source':>8} {'→target':>8} {'src↔tgt':>8} {'diff':>6}"
    print(header)
    ratios: dict[str, list[float]] = {blend: [] for blend in BLEND_MODES}
    astro = descriptor(source)
    for index, person in enumerate(people):
        who = descriptor(person)
        for name, src, tgt, d_src, d_tgt in [
            (f"astro→p{index}", source, person, astro, who),
            (f"p{index}→astro", person, source, who, astro),
        ]:
            for blend in BLEND_MODES:
                result = descriptor(engine.swap(src, tgt, SwapOptions(blend=blend)))
                to_src = swap_quality.cosine(result, d_src)
                to_tgt = swap_quality.cosine(result, d_tgt)
                ratios[blend].append(to_src - to_tgt)
                between = swap_quality.cosine(d_src, d_tgt)
                print(
                    f"{name:<14} {blend:<10} {to_src:>8.3f} {to_tgt:>8.3f} {between:>8.3f}"
                    f" {to_src - to_tgt:>6.2f}"
                )
    for blend, values in ratios.items():
        wins = sum(r > 0 for r in values)
        print(
            f"{blend}: median →source − →target cosine {statistics.median(values):.2f}, "
            f"closer to the source in {wins}/{len(values)} pairs"
        )


if __name__ == "__main__":
    main()
