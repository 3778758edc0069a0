"""Real faces from registry packages as SageMaker channels, and `make train-smoke`.

The photos are the ones scripts/fetch_photos.py puts in .cache/photos at set-up (never
committed, never downloaded here). Faces are found by facekit's detector (dlib HOG + 5 landmarks):
- detection channel: the photos, shrunk, in WIDER FACE format with the detector's boxes as labels;
- embedding channel: identity tree of 112×112 aligned crops of people whose names nobody labelled
  (the six of insightface's group photo, the face-api demo samples' faces, one identity each);
- evaluation tree: the named people (Macron ×2, Ardern ×2, Obama ×4, Sunak, Biden), held out of
  training, for labelled pairs (ROC, TAR@FAR) and a labelled album (purity, BCubed).

`python faceflow_smoke.py` (what `make train-smoke` runs) trains both models tiny on CPU, as a
training job would run them, and prints the losses, the evaluation of the trained embedder beside
the default (SFace) and the embedding dimension.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from local.photos import LABELLED as NAMED  # held out of training: file → identity
from local.photos import MODEL_CACHE as MODELS
from local.photos import PHOTO_CACHE as PHOTOS

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
CROP_SIZE = 112
# ArcFace's 112×112 template (eye centres, nose tip): SFace and our embedder take such crops.
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366]])

# Unnamed people, each face its own identity: the training identities.
GROUPS = ("insightface_t1.jpg", *(f"face_api/sample{i}.jpg" for i in range(1, 7)))

TINY_DETECTION = {
    "task": "detection",
    "steps": "20",
    "batch_size": "2",
    "input_size": "160",
    "width": "0.35",
    "fpn_channels": "16",
    "learning_rate": "0.003",
    "warmup_steps": "2",
    "workers": "0",
    "log_every": "5",
}
TINY_EMBEDDING = {
    "task": "embedding",
    "steps": "30",
    "batch_size": "16",
    "image_size": "64",
    "width": "8",
    "layers": "[1, 1, 1, 1]",
    "scale": "16",
    "margin": "0.2",
    "learning_rate": "0.003",
    "warmup_steps": "3",
    "workers": "0",
    "log_every": "5",
}


@dataclass(frozen=True)
class PhotoFaces:
    path: Path
    rgb: np.ndarray
    faces: list  # facekit.faces.Face


def available() -> bool:
    return all((PHOTOS / name).is_file() for name in (*NAMED, *GROUPS))


def photo_faces(name: str) -> PhotoFaces:
    from facekit import faces

    path = PHOTOS / name
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    return PhotoFaces(path, rgb, faces.detect_faces(rgb, upsample=0))


def aligned_crop(rgb: np.ndarray, face, size: int = CROP_SIZE) -> np.ndarray:
    from facekit import faces

    src = np.stack([face.left_eye, face.right_eye, face.nose])
    matrix = faces.similarity_transform(src, TEMPLATE * (size / CROP_SIZE))
    return faces.warp_affine(rgb, matrix, size, resample="bilinear")


def write_detection_channel(root: Path, names: tuple[str, ...], max_side: int = 320) -> Path:
    from faceflow_models.detection.wider import IMAGES_DIR, write_wider

    entries = []
    for name in names:
        photo = photo_faces(name)
        scale = max_side / max(photo.rgb.shape[:2])
        image = Image.fromarray(photo.rgb).resize(
            (round(photo.rgb.shape[1] * scale), round(photo.rgb.shape[0] * scale)),
            Image.Resampling.LANCZOS,
        )
        relative = f"registry/{Path(name).stem}.jpg"
        (root / IMAGES_DIR / "registry").mkdir(parents=True, exist_ok=True)
        image.save(root / IMAGES_DIR / relative, quality=92)
        boxes = np.array([f.box for f in photo.faces], dtype=np.float32).reshape(-1, 4) * scale
        entries.append((relative, boxes))
    write_wider(root, entries)
    return root


def write_identity_tree(root: Path, identities: dict[str, list[np.ndarray]]) -> Path:
    for identity, crops in identities.items():
        (root / identity).mkdir(parents=True, exist_ok=True)
        for i, crop in enumerate(crops):
            Image.fromarray(crop).save(root / identity / f"{i:03d}.png")
    return root


def training_identities() -> dict[str, list[np.ndarray]]:
    out = {}
    for name in GROUPS:
        photo = photo_faces(name)
        for i, face in enumerate(photo.faces):
            out[f"{Path(name).stem}_{i}"] = [aligned_crop(photo.rgb, face)]
    return out


def named_identities() -> dict[str, list[np.ndarray]]:
    out: dict[str, list[np.ndarray]] = {}
    for name, identity in NAMED.items():
        photo = photo_faces(name)
        main = max(photo.faces, key=lambda f: f.area)
        out.setdefault(identity, []).append(aligned_crop(photo.rgb, main))
    return out


def prepare(work: Path) -> dict[str, Path]:
    """The four trees the smoke run uses, under `work`."""
    return {
        "detection_train": write_detection_channel(
            work / "detection" / "train", GROUPS + tuple(NAMED)[:4]
        ),
        "detection_validation": write_detection_channel(
            work / "detection" / "validation", tuple(NAMED)[4:6]
        ),
        "embedding_train": write_identity_tree(work / "embedding" / "train", training_identities()),
        "evaluation": write_identity_tree(work / "evaluation", named_identities()),
    }


def training_env(
    root: Path, train: Path, hyperparameters: dict, validation: Path | None = None
) -> dict:
    """The environment a SageMaker training job gives the container, under `root`."""
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    env = {
        "SM_CHANNEL_TRAIN": str(train),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_INPUT_CONFIG_DIR": str(config),
    }
    if validation is not None:
        env["SM_CHANNEL_VALIDATION"] = str(validation)
    return env


def run_training(env: dict) -> subprocess.CompletedProcess:
    """`python -m faceflow_models train` in a fresh process, as the job's container runs it."""
    pythonpath = os.pathsep.join([str(HERE), str(REPO_ROOT / "lambda" / "shared")])
    return subprocess.run(
        [sys.executable, "-m", "faceflow_models", "train"],
        env={**os.environ, **env, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def main() -> int:
    from faceflow_models.evaluation import compare, print_report

    if not available():
        print(f"the registry photos are missing from {PHOTOS}: run scripts/fetch_photos.py")
        return 1
    with tempfile.TemporaryDirectory(prefix="faceflow-smoke-") as tmp:
        work = Path(tmp)
        trees = prepare(work)
        runs = {
            "detection": training_env(
                work / "det-job",
                trees["detection_train"],
                TINY_DETECTION,
                trees["detection_validation"],
            ),
            "embedding": training_env(work / "emb-job", trees["embedding_train"], TINY_EMBEDDING),
        }
        for task, env in runs.items():
            started = time.monotonic()
            done = run_training(env)
            if done.returncode != 0:
                print(done.stdout, done.stderr, sep="\n")
                return done.returncode
            metrics = json.loads((Path(env["SM_OUTPUT_DIR"]) / "data" / "metrics.json").read_text())
            print(
                f"{task}: {metrics['steps']} steps, loss {metrics['loss_start']:.3f} → "
                f"{metrics['loss_end']:.3f} (mean of first/last 5 steps), "
                f"{metrics['steps_per_second']:.2f} steps/s wall, "
                f"{metrics['steps_per_cpu_second']:.2f} steps per CPU second, "
                f"job {time.monotonic() - started:.1f}s wall"
            )
        report = compare(Path(runs["embedding"]["SM_MODEL_DIR"]), trees["evaluation"], MODELS)
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
