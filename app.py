#!/usr/bin/env python3
"""CDK entry point: builds every Style Backend stack from the context (cdk.context.json)."""

from __future__ import annotations

import aws_cdk as cdk

from stacks.settings import Settings


def build_app(app: cdk.App) -> cdk.App:
    settings = Settings.from_context(app)
    del settings  # stacks are wired here as they land
    return app


if __name__ == "__main__":
    build_app(cdk.App()).synth()
