"""SageMaker's training contract, read once: where the channels, the model and the outputs live,
and the hyperparameters.

A training job mounts each input channel at /opt/ml/input/data/<channel>, writes the
hyperparameters (every value a string) to /opt/ml/input/config/hyperparameters.json, uploads
/opt/ml/model as model.tar.gz and reads /opt/ml/output/failure when the job fails. The SM_*
variables (set by SageMaker's training toolkit, and by tests) override those paths; SM_HPS (JSON)
overrides the hyperparameters file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from faceflow_models.errors import DataError

ML_ROOT = Path("/opt/ml")
T = TypeVar("T")


@dataclass(frozen=True)
class TrainingEnvironment:
    train: Path
    validation: Path | None
    model_dir: Path
    output_dir: Path  # failure file and output/data (metrics) live here
    hyperparameters: dict[str, Any]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrainingEnvironment:
        env = os.environ if environ is None else environ
        data = ML_ROOT / "input" / "data"
        train = Path(env.get("SM_CHANNEL_TRAIN", data / "train"))
        validation = Path(env.get("SM_CHANNEL_VALIDATION", data / "validation"))
        config = Path(env.get("SM_INPUT_CONFIG_DIR", ML_ROOT / "input" / "config"))
        if "SM_HPS" in env:
            hps = json.loads(env["SM_HPS"])
        elif (config / "hyperparameters.json").is_file():
            hps = json.loads((config / "hyperparameters.json").read_text())
        else:
            hps = {}
        if not train.is_dir():
            raise DataError(f"the train channel {train} does not exist")
        return cls(
            train=train,
            validation=validation if validation.is_dir() else None,
            model_dir=Path(env.get("SM_MODEL_DIR", ML_ROOT / "model")),
            output_dir=output_dir(env),
            hyperparameters=hps,
        )

    @property
    def metrics_dir(self) -> Path:
        return self.output_dir / "data"


def parse_hyperparameters(cls: type[T], raw: Mapping[str, Any]) -> T:
    """A dataclass of typed hyperparameters from SageMaker's strings ("0.1", "true", "[2, 2]")."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known) - {"task"})
    if unknown:
        raise DataError(f"unknown hyperparameters: {', '.join(unknown)}")
    values = {}
    for name, value in raw.items():
        if name not in known:
            continue
        default = known[name].default
        try:
            values[name] = _coerce(value, default)
        except (TypeError, ValueError):
            raise DataError(f"hyperparameter {name}: cannot read {value!r}") from None
    return cls(**values)


def _coerce(value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if isinstance(default, tuple):
        items = json.loads(value) if isinstance(value, str) else value
        return tuple(type(default[0])(v) for v in items)
    return str(value)


def output_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("SM_OUTPUT_DIR", ML_ROOT / "output"))


def write_failure(reason: str, environ: Mapping[str, str] | None = None) -> None:
    """SageMaker shows this file's text as the job's FailureReason."""
    directory = output_dir(os.environ if environ is None else environ)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "failure").write_text(reason[:1000])
