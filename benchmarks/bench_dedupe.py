"""FaceFlow de-duplication quality and cost, on real registry photos and hard cases built from them.

    .venv/bin/python benchmarks/bench_dedupe.py [--runs N] [--subset NAME] [--before FILE]
        [--cache FILE]

The labelled set (tests/faceflow_photos.py), each picture with its copies (TRANSFORMS: re-encode
q60, PNG, resize 50%, crop 5% each side, crop 10% left+top, EXIF-rotated, crop + resize + q70,
crop 10% each side, colour-adjusted):
- registry: every distinct registry photo, the real re-encoded copy (32bit.png of obama2.jpg) and
  two heavy crops of obama.jpg (their own pictures). The same person's other shots: Macron ×2,
  Ardern ×2, Obama ×4; six different group shots.
- id: every clear face of those photos as an ID-style portrait pasted at the same place on a
  plain white, grey or black 600×800 canvas (a person's other shots on the same canvas): 39
  pictures of 34 people, issue 24's reproduction.
- uniform: 12 face-free pictures (scikit-image's data) small on a scanned page's border, a clear
  sky or a letterbox's black bars.
No registry package ships a real burst: "bursts are not duplicates" is shown by the nearest
distinct pictures (the same person's other shots, on the same canvas too).

Printed for each rule on the same set: pairwise precision/recall of "same group" against the
truth, the different-picture pairs marked duplicate, and recall per transform, for
- faceflow (faces + content), what the pipeline runs;
- with --pixels-alone, faceflow without faces (as for photos recorded before faces came first;
  every pHash candidate then reaches the pixels: slow);
- imagededup's PHash (and AHash, DHash, WHash) at its default max distance 10, when imagededup is
  importable (its CNN needs torchvision's pretrained weights from the network: not run here);
- `--before FILE`: another faceflow/dedupe.py, e.g. the one before issue 24
  (`git show 050e7c3:lambda/shared/faceflow/dedupe.py > /tmp/dedupe_before.py`), pixels alone.
Cost: de-duplication per photo (the album's whole run / photos) against its floor, the thumbnail
decode each photo needs at least once; and ingestion per photo against decode + hashes.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import pickle
import statistics
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda/shared")]


from faceflow.domain import dedupe, ingest  # noqa: E402
from facekit import imaging  # noqa: E402
from tests import faceflow_photos  # noqa: E402

MAX_BYTES = 64 * 1024 * 1024
SUBSETS = {
    "registry": lambda: faceflow_photos.near_duplicate_set(),
    "hard": lambda: faceflow_photos.hard_case_set(),
}


def subset_of(name: str) -> str:
    if name.startswith("id/"):
        return "id"
    return "uniform" if name.split("/")[0] in faceflow_photos.BACKDROPS else "registry"


def score(names, truth, group) -> dict:
    tp = fp = fn = 0
    for i, a in enumerate(names):
        for b in names[:i]:
            same, found = truth[a] == truth[b], group[a] == group[b]
            tp += same and found
            fp += found and not same
            fn += same and not found
    return {
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(tp + fn, 1),
        "false pairs": fp,
        "missed pairs": fn,
    }


def report(label: str, names, truth, group, items) -> None:
    overall = score(names, truth, group)
    print(
        f"{label:<34} precision {overall['precision']:.3f}  recall {overall['recall']:.3f}  "
        f"different-picture pairs marked duplicate {overall['false pairs']}"
    )
    for part in ("registry", "id", "uniform"):
        subset = [n for n in names if subset_of(n) == part]
        if subset:
            s = score(subset, truth, group)
            print(
                f"    {part:<10} ({len(subset):>3} photos) precision {s['precision']:.3f}  "
                f"recall {s['recall']:.3f}  false pairs {s['false pairs']}"
            )
    per_transform = defaultdict(lambda: [0, 0])
    for name, _, original in items:
        if original is None:
            continue
        kind = name.split("[")[-1].rstrip("]") if "[" in name else "real re-encoded copy"
        per_transform[kind][0] += group[name] == group[original]
        per_transform[kind][1] += 1
    print(
        "    recall per transform: "
        + ", ".join(f"{kind} {hit}/{total}" for kind, (hit, total) in per_transform.items())
    )


def groups_of(facts, result) -> dict[str, str]:
    return {f.photo_id: result.duplicate_of.get(f.photo_id, f.photo_id) for f in facts}


def imagededup_methods() -> dict[str, Callable] | None:
    """imagededup's hashing methods, or None when it is not installed. Its methods and utils
    packages import its CNN too, which needs a torchvision matching torch: the hashing module
    is loaded without them."""
    spec = importlib.util.find_spec("imagededup")
    if spec is None:
        return None
    for name in ("methods", "utils"):  # both __init__s import the CNN's torchvision models
        package = types.ModuleType(f"imagededup.{name}")
        package.__path__ = [str(Path(spec.origin).parent / name)]
        sys.modules.setdefault(f"imagededup.{name}", package)
    from imagededup.methods import hashing

    return {name: getattr(hashing, name) for name in ("PHash", "AHash", "DHash", "WHash")}


def imagededup_groups(method, items, names) -> dict[str, str]:
    """Its find_duplicates (default max distance 10) over the photos as uploaded, as groups."""
    encodings = {}
    hasher = method(verbose=False)
    for name, data, _ in items:
        with Image.open(io.BytesIO(data)) as image:
            from PIL import ImageOps

            upright = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
        encodings[name] = hasher.encode_image(image_array=upright)
    found = hasher.find_duplicates(encoding_map=encodings)
    parent = {n: n for n in names}

    def root(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for name, others in found.items():
        for other in others:
            parent[root(other)] = root(name)
    return {n: root(n) for n in names}


def load_before(path: str):
    spec = importlib.util.spec_from_file_location("dedupe_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subset", choices=[*SUBSETS, "all"], default="all")
    parser.add_argument("--before", help="another dedupe.py to run beside (pixels alone)")
    parser.add_argument("--cache", help="pickle of the ingested set (made if missing)")
    parser.add_argument(
        "--pixels-alone", action="store_true", help="also faceflow without faces (slow: ~30 min)"
    )
    args = parser.parse_args()
    items = [i for key, make in SUBSETS.items() if args.subset in (key, "all") for i in make()]
    if len(items) < 100:
        print("missing the registry photos: run scripts/fetch_photos.py", file=sys.stderr)
        return 1
    if args.cache and Path(args.cache).exists():
        facts, thumbs, truth, faces = pickle.loads(Path(args.cache).read_bytes())
    else:
        facts, thumbs, truth, faces = faceflow_photos.ingested(items, faces=True)
        if args.cache:
            Path(args.cache).write_bytes(pickle.dumps((facts, thumbs, truth, faces)))
    names = [f.photo_id for f in facts]
    print(f"photos: {len(items)} ({len({*truth.values()})} distinct pictures)")

    runs = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = dedupe.find_duplicates(facts, thumbs.__getitem__, faces=faces.__getitem__)
        runs.append(time.perf_counter() - started)
    report("faceflow (faces + content)", names, truth, groups_of(facts, result), items)
    print(
        f"    candidate pairs past pHash {result.compared}, refused by faces "
        f"{result.refused_by_faces}; whole set {statistics.median(runs):.1f} s (median of "
        f"{args.runs})"
    )
    if args.pixels_alone:
        pixels = dedupe.find_duplicates(facts, thumbs.__getitem__)
        report("faceflow, pixels alone", names, truth, groups_of(facts, pixels), items)
    if args.before:
        old = load_before(args.before)
        old_facts = [
            old.PhotoFacts(
                *(
                    getattr(f, k)
                    for k in (
                        "photo_id",
                        "sha256",
                        "phash",
                        "width",
                        "height",
                        "face_count",
                        "order",
                    )
                )
            )
            for f in facts
        ]
        before = old.find_duplicates(old_facts, thumbs.__getitem__)
        report(f"before ({Path(args.before).name})", names, truth, groups_of(facts, before), items)
    methods = imagededup_methods()
    if methods is None:
        print("imagededup: not installed (pip install imagededup==0.3.3.post2 --no-deps, tqdm)")
    for name, method in (methods or {}).items():
        report(
            f"imagededup {name} (max distance 10)",
            names,
            truth,
            imagededup_groups(method, items, names),
            items,
        )

    # Cost per photo: the album's run over its photos, against decoding each thumbnail once.
    decode = []
    for _ in range(args.runs):
        for name, _, _ in items[:60]:
            jpeg = imaging.encode_jpeg(thumbs[name], quality=ingest.THUMB_QUALITY)
            t = time.perf_counter()
            with Image.open(io.BytesIO(jpeg)) as image:
                np.asarray(image.convert("RGB"))
            decode.append(time.perf_counter() - t)
    per_photo = statistics.median(runs) / len(facts)
    floor = statistics.median(decode)
    print(
        f"dedupe per photo {per_photo * 1000:.1f} ms against its floor (one thumbnail decode) "
        f"{floor * 1000:.2f} ms: {per_photo / floor:.1f}×"
    )
    ingestion(args.runs)
    return 0


def ingestion(runs: int) -> None:
    """Ingestion per photo: each part alone (medians over photos × runs)."""
    parts: dict[str, list[float]] = defaultdict(list)
    distinct = faceflow_photos.distinct_photos()
    for _ in range(runs):
        for _, data in distinct:
            t = time.perf_counter()
            decoded = imaging.decode_image(
                data,
                max_pixels=ingest.MAX_PIXELS,
                max_bytes=MAX_BYTES,
                target_max_side=ingest.WORKING_MAX_SIDE,
            )
            t1 = time.perf_counter()
            ingest.sha256_hex(data)
            t2 = time.perf_counter()
            ingest.phash_hex(decoded.rgb)
            t3 = time.perf_counter()
            imaging.encode_jpeg(ingest.thumbnail_of(decoded.rgb), quality=ingest.THUMB_QUALITY)
            t4 = time.perf_counter()
            ingest.ingest_photo(data, max_bytes=MAX_BYTES)
            t5 = time.perf_counter()
            for key, value in (
                ("decode", t1 - t),
                ("sha256", t2 - t1),
                ("phash", t3 - t2),
                ("thumbnail", t4 - t3),
                ("ingest_photo", t5 - t4),
            ):
                parts[key].append(value)
    print(f"ingestion per photo ({len(distinct)} photos × {runs}, medians, one core):")
    for key, values in parts.items():
        print(f"  {key:<13} {statistics.median(values) * 1000:7.1f} ms")
    floor = sum(statistics.median(parts[k]) for k in ("decode", "sha256", "phash", "thumbnail"))
    whole = statistics.median(parts["ingest_photo"])
    print(
        f"  floor (decode + hashes + thumbnail) {floor * 1000:.1f} ms; ingest_photo "
        f"{whole / floor:.2f}× floor; {1 / whole:.1f} photos/s per core (floor {1 / floor:.1f})"
    )


if __name__ == "__main__":
    sys.exit(main())
