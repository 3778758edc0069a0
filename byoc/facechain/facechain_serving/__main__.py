"""`python -m facechain_serving serve [--port 8080]` (SageMaker passes `serve`), or `download`."""

from __future__ import annotations

import argparse
import logging
import sys

from facechain_serving.engines import create_engine, engine_from_env
from facechain_serving.server import DEFAULT_PORT, DEFAULT_THREADS, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facechain_serving")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve /ping and /invocations")
    serve_cmd.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve_cmd.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    download = commands.add_parser("download", help="fetch model weights (image build time)")
    download.add_argument("--engine", default="facechain")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "download":
        engine = create_engine(args.engine)
        download = getattr(engine, "download", None)
        if download is None:  # the cpu engine's models come with its pip packages
            print(f"engine {engine.name} has nothing to download")
            return 0
        download()
        return 0
    return serve(engine_from_env(), port=args.port, threads=args.threads)


if __name__ == "__main__":
    sys.exit(main())
