"""Trains the identity embedder on an identity tree and exports it (SageMaker `train`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from faceflow_models import EMBEDDING_DIM
from faceflow_models.contract import TrainingEnvironment, parse_hyperparameters
from faceflow_models.embedding.identities import read_identities
from faceflow_models.embedding.model import RESNET_18, ArcFace, FaceEmbedder, ResNet, preprocess
from faceflow_models.errors import DataError
from faceflow_models.imaging import jitter_crop, load_rgb, to_chw
from faceflow_models.training import export, optimise, seed_everything, step_loader, write_metrics

TASK = "embedding"


@dataclass(frozen=True)
class EmbeddingHyperparameters:
    steps: int = 40000
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 5e-4
    warmup_steps: int = 1000
    image_size: int = 112
    width: int = 64  # channels of the first stage; each stage doubles them
    layers: tuple[int, ...] = RESNET_18
    dropout: float = 0.0
    scale: float = 64.0  # ArcFace s
    margin: float = 0.5  # ArcFace m, radians
    workers: int = 4
    seed: int = 0
    log_every: int = 50

    def validate(self) -> None:
        if self.image_size % 2 ** len(self.layers):
            raise DataError(f"image_size must be a multiple of {2 ** len(self.layers)}")
        if self.steps < 1 or self.batch_size < 2:
            raise DataError("steps must be positive and batch_size at least 2")


def train(env: TrainingEnvironment) -> dict:
    hp = parse_hyperparameters(EmbeddingHyperparameters, env.hyperparameters)
    hp.validate()
    seed_everything(hp.seed)
    tree = read_identities(env.train)
    print(f"embedding: {len(tree.samples)} crops of {len(tree.names)} identities", flush=True)

    def make(i: int, rng: np.random.Generator):
        path, label = tree.samples[i]
        return to_chw(jitter_crop(load_rgb(path), hp.image_size, rng)), label

    loader = step_loader(len(tree.samples), hp, make)
    backbone = ResNet(hp.layers, hp.width, hp.image_size, hp.dropout)
    head = ArcFace(len(tree.names), hp.scale, hp.margin)
    backbone.train()

    def compute(batch):
        images, labels = batch
        return head(backbone(preprocess(images)), labels), {}

    log = optimise(loader, [*backbone.parameters(), *head.parameters()], compute, hp)

    example = torch.zeros(2, 3, hp.image_size, hp.image_size)
    export(
        FaceEmbedder(backbone),
        example,
        env.model_dir,
        {
            "task": TASK,
            "image_size": hp.image_size,
            "dimension": EMBEDDING_DIM,
            "input": "aligned face crops, RGB 0-255 NCHW",
            "identities": len(tree.names),
        },
    )
    return write_metrics(env, TASK, hp, log, identities=len(tree.names))
