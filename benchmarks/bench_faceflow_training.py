"""Training step time of FaceFlow's own models on this machine's CPU, at the tiny sizes
`make train-smoke` and the tests use and at the full sizes `make train` submits.

    .venv/bin/python benchmarks/bench_faceflow_training.py [--runs 5] [--full]

One step = forward, loss, backward and the optimiser update on one batch of random pixels (data
loading and augmentation excluded). Prints the median wall time per step, steps/s, and the median
CPU time per step (on a shared machine wall time stretches; CPU time does much less).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "byoc" / "faceflow_models"), str(ROOT / "lambda" / "shared"), str(ROOT)]

import torch  # noqa: E402

import faceflow_smoke  # noqa: E402
from faceflow_models.contract import parse_hyperparameters  # noqa: E402
from faceflow_models.detection.loss import detection_loss  # noqa: E402
from faceflow_models.detection.model import FaceDetector  # noqa: E402
from faceflow_models.detection.train import DetectionHyperparameters  # noqa: E402
from faceflow_models.embedding.model import ArcFace, ResNet, preprocess  # noqa: E402
from faceflow_models.embedding.train import EmbeddingHyperparameters  # noqa: E402


def detection_step(hp: DetectionHyperparameters):
    model = FaceDetector(hp.width, hp.fpn_channels).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=hp.learning_rate)
    images = torch.rand(hp.batch_size, 3, hp.input_size, hp.input_size) * 255
    side = hp.input_size / 4
    targets = [torch.tensor([[side, side, 2 * side, 2 * side]])] * hp.batch_size

    def step():
        loss, _ = detection_loss(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def embedding_step(hp: EmbeddingHyperparameters, identities: int = 30):
    backbone = ResNet(hp.layers, hp.width, hp.image_size).train()
    head = ArcFace(identities, hp.scale, hp.margin)
    optimizer = torch.optim.AdamW([*backbone.parameters(), *head.parameters()])
    images = torch.rand(hp.batch_size, 3, hp.image_size, hp.image_size) * 255
    labels = torch.randint(0, identities, (hp.batch_size,))

    def step():
        loss = head(backbone(preprocess(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def measure(name: str, step, runs: int) -> None:
    step()  # warm-up: allocations, first-call dispatch
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"{name}: {wall * 1000:.0f} ms/step wall ({1 / wall:.2f} steps/s), {cpu * 1000:.0f} ms CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also the full-size configurations")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    tiny_det = parse_hyperparameters(DetectionHyperparameters, faceflow_smoke.TINY_DETECTION)
    tiny_emb = parse_hyperparameters(EmbeddingHyperparameters, faceflow_smoke.TINY_EMBEDDING)
    measure("detection, tiny (make train-smoke)", detection_step(tiny_det), args.runs)
    measure("embedding, tiny (make train-smoke)", embedding_step(tiny_emb), args.runs)
    if args.full:
        full_det = DetectionHyperparameters(batch_size=4)
        full_emb = EmbeddingHyperparameters(batch_size=16)
        measure("detection, 640 px, batch 4 (full network)", detection_step(full_det), args.runs)
        measure("embedding, ResNet-18 112 px, batch 16", embedding_step(full_emb), args.runs)


if __name__ == "__main__":
    main()
