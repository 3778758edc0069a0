"""The image's commands, as SageMaker calls them: `train` (a training job: the `task`
hyperparameter picks detection or embedding) and `serve` (an endpoint: /ping, /invocations)."""

from __future__ import annotations

import argparse
import sys

from faceflow_models.contract import TrainingEnvironment, write_failure
from faceflow_models.errors import DataError

TASKS = ("detection", "embedding")


def train_task(environ=None) -> int:
    from faceflow_models.training import run

    try:
        task = str(TrainingEnvironment.from_env(environ).hyperparameters.get("task", ""))
    except DataError as err:
        print(f"training failed: {err}", file=sys.stderr)
        write_failure(f"DataError: {err}", environ)
        return 2
    if task not in TASKS:
        reason = f"DataError: hyperparameter task must be one of {', '.join(TASKS)}, not {task!r}"
        print(reason, file=sys.stderr)
        write_failure(reason, environ)
        return 2
    if task == "detection":
        from faceflow_models.detection.train import train
    else:
        from faceflow_models.embedding.train import train
    return run(train, environ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faceflow_models")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("train", help="run a training job (SageMaker's training contract)")
    serve = commands.add_parser("serve", help="serve /ping and /invocations on port 8080")
    serve.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    if args.command == "train":
        return train_task()
    from faceflow_models.serving import serve_forever

    return serve_forever(port=args.port)


if __name__ == "__main__":
    sys.exit(main())
