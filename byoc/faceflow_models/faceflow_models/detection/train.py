"""Trains the face detector on a WIDER FACE channel and exports it (SageMaker `train`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from faceflow_models.contract import TrainingEnvironment, parse_hyperparameters
from faceflow_models.detection.loss import detection_loss
from faceflow_models.detection.model import DecodedDetector, FaceDetector
from faceflow_models.detection.wider import AnnotatedImage, read_wider
from faceflow_models.errors import DataError
from faceflow_models.imaging import letterbox, load_rgb, photometric, to_chw
from faceflow_models.training import export, optimise, seed_everything, step_loader, write_metrics

TASK = "detection"


@dataclass(frozen=True)
class DetectionHyperparameters:
    steps: int = 20000
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 500
    input_size: int = 640  # square, a multiple of 32
    width: float = 1.0  # MobileNetV3 width multiplier
    fpn_channels: int = 64
    min_face: float = 4.0  # pixels; smaller annotated faces are ignored
    workers: int = 4
    seed: int = 0
    log_every: int = 50

    def validate(self) -> None:
        if self.input_size % 32:
            raise DataError(f"input_size must be a multiple of 32, not {self.input_size}")
        if self.steps < 1 or self.batch_size < 1:
            raise DataError("steps and batch_size must be positive")


def collate(items):
    images = torch.from_numpy(np.stack([image for image, _ in items]))
    return images, [torch.from_numpy(boxes) for _, boxes in items]


def sample(entry: AnnotatedImage, size: int, rng: np.random.Generator | None):
    image, boxes = letterbox(load_rgb(entry.path), entry.boxes, size, rng)
    if rng is not None:
        image = photometric(image, rng)
    return to_chw(image), boxes


def evaluate_loss(model: FaceDetector, entries: list[AnnotatedImage], size: int) -> float:
    model.eval()
    with torch.no_grad():
        images, targets = collate([sample(e, size, None) for e in entries])
        loss, _ = detection_loss(model(images), targets)
    model.train()
    return float(loss)


def train(env: TrainingEnvironment) -> dict:
    hp = parse_hyperparameters(DetectionHyperparameters, env.hyperparameters)
    hp.validate()
    seed_everything(hp.seed)
    entries = read_wider(env.train, hp.min_face)
    validation = read_wider(env.validation, hp.min_face) if env.validation else []
    print(f"detection: {len(entries)} training images, {len(validation)} validation", flush=True)

    loader = step_loader(
        len(entries), hp, lambda i, rng: sample(entries[i], hp.input_size, rng), collate
    )
    model = FaceDetector(hp.width, hp.fpn_channels)
    model.train()

    def compute(batch):
        images, targets = batch
        loss, parts = detection_loss(model(images), targets)
        return loss, {"focal": parts["focal"], "giou": parts["giou"]}

    log = optimise(loader, list(model.parameters()), compute, hp)

    extra = {}
    if validation:
        extra["validation_loss"] = evaluate_loss(model, validation, hp.input_size)
        print(f"validation_loss={extra['validation_loss']:.4f}", flush=True)
    example = torch.zeros(2, 3, hp.input_size, hp.input_size)
    export(
        DecodedDetector(model),
        example,
        env.model_dir,
        {"task": TASK, "input_size": hp.input_size, "input": "RGB 0-255 NCHW, letterboxed"},
    )
    return write_metrics(env, TASK, hp, log, **extra)
