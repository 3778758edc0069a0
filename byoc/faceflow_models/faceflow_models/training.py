"""What both trainings share: the run wrapper (failure file, exit status), the sampler that turns
a step budget into augmented items, the loss log, the optimiser schedule and the export."""

from __future__ import annotations

import json
import math
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from faceflow_models.contract import TrainingEnvironment, write_failure
from faceflow_models.errors import DataError

MODEL_FILE = "model.pt2"  # torch.export's ExportedProgram (TorchScript is deprecated in 2.x)
METADATA_FILE = "model.json"
EXPORT_FORMAT = "torch.export"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class StepItems(torch.utils.data.Dataset):
    """Item k of a run is sample k mod n, augmented with a generator seeded by (seed, k): every
    step sees fresh augmentations, and a rerun sees the same ones."""

    def __init__(
        self, count: int, total: int, seed: int, make: Callable[[int, np.random.Generator], object]
    ):
        self.count, self.total, self.seed, self.make = count, total, seed, make

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, k: int):
        return self.make(k % self.count, np.random.default_rng((self.seed, k)))


@dataclass
class LossLog:
    """Every logged step's loss; printed as `train_loss=…` lines for the job's metric regexes."""

    log_every: int
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    cpu_started: float = field(default_factory=time.process_time)

    def record(self, step: int, loss: float, **extra: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        if step % self.log_every == 0 or step == 1:
            details = " ".join(f"{k}={v:.4f}" for k, v in extra.items())
            print(f"step={step} train_loss={loss:.4f} {details}".rstrip(), flush=True)

    @property
    def steps_per_second(self) -> float:
        return len(self.steps) / max(time.monotonic() - self.started, 1e-9)

    @property
    def steps_per_cpu_second(self) -> float:
        """Steps per second of this process's CPU time: what a shared machine cannot skew."""
        return len(self.steps) / max(time.process_time() - self.cpu_started, 1e-9)

    def window(self, start: bool, size: int = 5) -> float:
        """Mean loss over the first (or last) few steps: single steps are noisy."""
        values = self.losses[:size] if start else self.losses[-size:]
        return float(np.mean(values))

    def summary(self) -> dict[str, float]:
        return {
            "steps": len(self.steps),
            "loss_start": self.window(True),
            "loss_end": self.window(False),
            "steps_per_second": self.steps_per_second,
            "steps_per_cpu_second": self.steps_per_cpu_second,
        }


def step_loader(count: int, hp, make, collate=None) -> torch.utils.data.DataLoader:
    """hp.steps batches of hp.batch_size items, item i of sample i mod count (see StepItems)."""
    items = StepItems(count, hp.steps * hp.batch_size, hp.seed, make)
    return torch.utils.data.DataLoader(
        items,
        batch_size=hp.batch_size,
        shuffle=True,
        num_workers=hp.workers,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(hp.seed),
    )


def optimise(loader, parameters: list, compute, hp) -> LossLog:
    """AdamW with warm-up then cosine decay over the loader's batches; `compute(batch)` returns
    (loss, {name: value to log})."""
    optimizer = torch.optim.AdamW(parameters, lr=hp.learning_rate, weight_decay=hp.weight_decay)
    schedule = warmup_cosine(optimizer, hp.steps, min(hp.warmup_steps, hp.steps // 5 + 1))
    log = LossLog(hp.log_every)
    for step, batch in enumerate(loader, start=1):
        loss, extra = compute(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 10.0)
        optimizer.step()
        schedule.step()
        log.record(step, float(loss), **extra)
    return log


def warmup_cosine(optimizer: torch.optim.Optimizer, steps: int, warmup: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def export(module: torch.nn.Module, example: torch.Tensor, model_dir: Path, metadata: dict) -> Path:
    """Writes MODEL_FILE (batch dimension dynamic) and METADATA_FILE into the model directory."""
    module.eval()
    batch = torch.export.Dim("batch", min=1, max=1024)
    with torch.no_grad():
        program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    torch.export.save(program, path)
    meta = {"format": EXPORT_FORMAT, "file": MODEL_FILE, "torch": torch.__version__, **metadata}
    (model_dir / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return path


def load_exported(model_dir: Path) -> tuple[torch.nn.Module, dict]:
    meta = json.loads((model_dir / METADATA_FILE).read_text())
    if meta.get("format") != EXPORT_FORMAT:
        raise DataError(f"{model_dir}: model format {meta.get('format')!r}, not {EXPORT_FORMAT}")
    return torch.export.load(model_dir / meta["file"]).module(), meta


def write_metrics(
    env: TrainingEnvironment, task: str, hyperparameters, log: LossLog, **extra
) -> dict:
    metrics = {"task": task, **log.summary(), **extra, "hyperparameters": asdict(hyperparameters)}
    env.metrics_dir.mkdir(parents=True, exist_ok=True)
    (env.metrics_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def run(train: Callable[[TrainingEnvironment], dict], environ=None) -> int:
    """Runs one training as SageMaker's `train` command: 0 on success; on bad data, the reason in
    the failure file and exit 2; on anything else the traceback there too and exit 1."""
    try:
        train(TrainingEnvironment.from_env(environ))
        return 0
    except DataError as err:
        print(f"training failed: {err}", file=sys.stderr)
        write_failure(f"DataError: {err}", environ)
        return 2
    except Exception as err:
        traceback.print_exc()
        write_failure(f"{type(err).__name__}: {err}", environ)
        return 1
