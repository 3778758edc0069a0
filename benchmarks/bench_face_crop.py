"""Face crop: handler time against its floor, peak memory on a 12 MP photo, cold-start import.

    .venv/bin/python benchmarks/bench_face_crop.py [--runs N]

Inputs are real photos built at run time (tests/hostile.py): the 512² astronaut portrait, and a
4000×3000 JPEG (the portrait enlarged onto a photographic background).

Figures, each a median over the runs, all in this one process so they share the machine's state:
- handler: face_crop.handler on an S3 event, S3 and DynamoDB served by moto in-process (moto's
  own overhead included: on AWS those calls cost network time instead);
- domain: what the handler does between download and upload (decode, find, align, JPEG encode);
- floor: the downscaled decode plus face detection (YuNet) alone — the work no crop can skip.
Targets: domain ≤ 1.3× floor (the handler adds moto's in-process S3 and DynamoDB: reported);
12 MP peak RSS ≤ 300 MB; import ≤ 1.5 s.
Peak RSS and import time are measured in fresh subprocesses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT, ROOT / "lambda/shared", ROOT / "lambda/image_processing"]
sys.path[:0] = [str(p) for p in PATHS]
ENV = {
    "BUCKET_NAME": "bench-bucket",
    "PROCESS_TABLE": "Process",
    "MAX_UPLOAD_BYTES": str(10 * 1024 * 1024),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
}
os.environ.update(ENV)
for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[var]


def interleaved_medians(steps: dict, runs: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) median seconds of each step, the steps taking turns so that a busy machine
    slows all of them alike; CPU time (this process's) is what a shared machine distorts least.
    A step is (setup or None, fn): setup's result is passed to fn, untimed."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, (setup, fn) in steps.items():
            arg = setup() if setup else None
            wall, cpu = time.perf_counter(), time.process_time()
            fn(arg) if setup else fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


def in_process(runs: int) -> None:
    import boto3
    import face_crop
    from moto import mock_aws

    from facekit import faces, imaging, yunet
    from style_backend.storage import keys
    from style_backend.storage.processes import ProcessStore
    from tests import hostile
    from tests.integration.conftest import s3_event

    photos = {
        "512² portrait (JPEG)": hostile.jpeg(hostile.astronaut()),
        "12 MP photo (JPEG)": hostile.twelve_megapixel_jpeg(),
    }
    limits = {"max_pixels": faces.MAX_PIXELS, "max_bytes": 10 * 1024 * 1024}
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket="bench-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
        boto3.client("dynamodb").create_table(
            TableName="Process",
            KeySchema=[{"AttributeName": "processId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "processId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        store, s3 = ProcessStore(), boto3.client("s3")

        for label, data in photos.items():

            def floor(data=data):
                decoded = imaging.decode_image(
                    data, **limits, target_max_side=faces.WORKING_MAX_SIDE
                )
                yunet.find_main_face(decoded.rgb)

            def domain(data=data):
                faces.encode_crop(faces.crop_from_upload(data, max_bytes=limits["max_bytes"]))

            def new_upload(data=data):
                user = "bench-user"
                process = store.create(
                    user, ["s"], lambda pid: keys.upload_key(user, pid, "image/jpeg"), 1
                )
                s3.put_object(Bucket="bench-bucket", Key=process["sourceKey"], Body=data)
                return s3_event(process["sourceKey"], bucket="bench-bucket")

            def handle(event):
                face_crop.handler(event)

            decoded = imaging.decode_image(data, **limits, target_max_side=faces.WORKING_MAX_SIDE)
            face = yunet.find_main_face(decoded.rgb)
            crop = faces.align_face(decoded.rgb, face)

            floor(), domain(), handle(new_upload())  # warm caches
            medians = interleaved_medians(
                {
                    "floor": (None, floor),
                    "domain": (None, domain),
                    "handler": (new_upload, handle),
                    # The two fixed costs the domain adds to the floor, alone:
                    "align": (None, lambda rgb=decoded.rgb, f=face: faces.align_face(rgb, f)),
                    "encode": (None, lambda c=crop: faces.encode_crop(c)),
                },
                runs,
            )
            (floor_wall, floor_cpu) = medians["floor"]
            print(f"{label}, {len(data) / 1e6:.2f} MB, median of {runs} (wall | CPU):")
            names = {
                "floor": "floor (downscaled decode + detection)",
                "domain": "domain (decode, find, align, encode)",
                "handler": "handler (with moto S3 + DynamoDB)",
                "align": "  of which the warp to 512² (Pillow)",
                "encode": "  of which the JPEG encode",
            }
            for key, text in names.items():
                wall, cpu = medians[key]
                print(
                    f"  {text:38} {wall * 1000:7.1f} ms = {wall / floor_wall:.2f}× floor"
                    f" | {cpu * 1000:7.1f} ms = {cpu / floor_cpu:.2f}× floor"
                )


_PEAK = """
import sys
sys.path[:0] = {paths!r}
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import face_crop
from facekit import faces
data = open({path!r}, "rb").read()
before = peak_mb()
faces.encode_crop(faces.crop_from_upload(data, max_bytes=10 << 20))
print(before, peak_mb())
"""


def peak_rss_12mp(models: Path) -> None:
    """Peak RSS of a fresh interpreter that imports the handler and crops the 12 MP JPEG."""
    from tests import hostile

    with tempfile.NamedTemporaryFile(suffix=".jpg") as photo:
        photo.write(hostile.twelve_megapixel_jpeg())
        photo.flush()
        code = _PEAK.format(paths=[str(p) for p in PATHS], path=photo.name)
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "FACE_MODELS_DIR": str(models)},
        )
    before, peak = (float(v) for v in out.stdout.split())
    print(
        f"12 MP crop, fresh process: peak RSS {peak:.0f} MB "
        f"(of which importing the handler, its models and reading the file: {before:.0f} MB)"
    )


def layer_models_dir(directory: Path) -> Path:
    """/opt/face_models as the Lambda layer ships it: the pinned YuNet and SFace files."""
    from facekit import model_files
    from facekit.models import model_path

    for name in model_files.FILES:
        (directory / name).symlink_to(model_path(name))
    return directory


def import_time(runs: int, models: Path | None) -> None:
    paths = [str(p) for p in PATHS]
    code = (
        f"import sys, time; sys.path[:0] = {paths!r}; t, c = time.perf_counter(), "
        "time.process_time(); import face_crop; "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    env = dict(os.environ)
    env.pop("FACE_MODELS_DIR", None)
    if models:
        env["FACE_MODELS_DIR"] = str(models)
    samples = [
        [
            float(v)
            for v in subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout.split()
        ]
        for _ in range(runs)
    ]
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    where = "FACE_MODELS_DIR as the layer ships it" if models else "no FACE_MODELS_DIR: .cache"
    print(
        f"import face_crop (cold start, models loaded; {where}), fresh process, median of "
        f"{runs}: {wall * 1000:.0f} ms wall | {cpu * 1000:.0f} ms CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    in_process(args.runs)
    with tempfile.TemporaryDirectory() as models:
        layer = layer_models_dir(Path(models))
        peak_rss_12mp(layer)
        import_time(max(3, args.runs // 3), layer)
    import_time(max(3, args.runs // 3), None)


if __name__ == "__main__":
    main()
