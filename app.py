#!/usr/bin/env python3
"""CDK entry point: builds every Style Backend stack from the context (cdk.context.json).

Deploy order follows the references: storage, tables, identity, alerts and the container build
first; then FaceChain (image build + endpoint), the functions, the API, and monitoring last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk

from stacks.albums import AlbumsStack
from stacks.apigateway import ApiStack
from stacks.byoc import ContainerBuildStack
from stacks.cognito import IdentityStack
from stacks.ddb import TablesStack
from stacks.delivery import DeliveryStack
from stacks.facechain import FaceChainStack
from stacks.lambdas import FunctionsStack
from stacks.live import LiveStack
from stacks.monitoring import AlertsStack, MonitoringStack
from stacks.nag import add_checks
from stacks.s3 import StorageStack
from stacks.settings import Settings
from stacks.training import TrainingStack

ROOT = Path(__file__).resolve().parent


def apply_project_context(app: cdk.App) -> None:
    """cdk.json's feature flags and cdk.context.json's settings, for callers other than the CLI
    (`python app.py`, tests, the local runtime): what a caller passed explicitly wins."""
    for path in (ROOT / "cdk.json", ROOT / "cdk.context.json"):
        values = json.loads(path.read_text())
        for key, value in values.get("context", values).items():
            if app.node.try_get_context(key) is None:
                app.node.set_context(key, value)


def build_app(app: cdk.App) -> cdk.App:
    apply_project_context(app)
    settings = Settings.from_context(app)
    env = cdk.Environment(
        account=settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT"), region=settings.region
    )
    prefix = settings.project_name

    def stack_kw(name: str, description: str) -> dict:
        return {"env": env, "stack_name": f"{prefix}-{name}", "description": description}

    storage = StorageStack(
        app, "Storage", settings=settings, **stack_kw("s3", "Base bucket and access logs")
    )
    tables = TablesStack(app, "Tables", settings=settings, **stack_kw("ddb", "DynamoDB tables"))
    identity = IdentityStack(
        app, "Identity", settings=settings, **stack_kw("cognito", "Cognito user pool and client")
    )
    alerts = AlertsStack(app, "Alerts", settings=settings, **stack_kw("alerts", "Operators' topic"))
    build = ContainerBuildStack(
        app,
        "ContainerBuild",
        settings=settings,
        **stack_kw("byoc", "ECR + CodeBuild for FaceChain"),
    )
    facechain = FaceChainStack(
        app,
        "FaceChain",
        settings=settings,
        storage=storage,
        container=build,
        alerts=alerts,
        **stack_kw("facechain", "FaceChain image build and SageMaker async endpoint"),
    )
    functions = FunctionsStack(
        app,
        "Functions",
        settings=settings,
        storage=storage,
        tables=tables,
        facechain=facechain,
        user_pool=identity.user_pool,
        **stack_kw("lambdas", "Image pipeline and API functions, layers, S3 notifications"),
    )
    albums = AlbumsStack(
        app,
        "Albums",
        settings=settings,
        operations_topic=alerts.topic,
        **stack_kw("albums", "FaceFlow albums: storage, table, pipeline, API"),
    )
    albums.grant_user_erasure(functions.api_functions["ErasureFunction"])
    # The endpoint is referenced by name, not token: say the order explicitly.
    functions.add_stack_dependency(facechain, "invokes the endpoint by name")
    api = ApiStack(
        app,
        "Api",
        settings=settings,
        user_pool=identity.user_pool,
        functions={
            **{key: fn.function for key, fn in functions.api_functions.items()},
            **albums.api_functions,
        },
        **stack_kw("api", "REST API with Cognito authorizer"),
    )
    LiveStack(
        app,
        "Live",
        settings=settings,
        user_pool=identity.user_pool,
        client=identity.client,
        album_table=albums.table,
        process_table=tables.process,
        results_bucket=storage.bucket,
        operations_topic=alerts.topic,
        **stack_kw("live", "Live progress: WebSocket API and the tables' stream publisher"),
    )
    MonitoringStack(
        app,
        "Monitoring",
        topic=alerts.topic,
        functions={f.node.id: f.function for f in (*functions.functions, *facechain.functions)},
        dead_letter_queues=[*functions.dead_letter_queues, *facechain.dead_letter_queues],
        api=api.api,
        endpoint_name=facechain.endpoint_name,
        error_topic=facechain.error_topic,
        dead_letter_consumer=functions.dead_letters.function,
        **stack_kw("monitoring", "Alarms and dashboard of the styling flow"),
    )
    TrainingStack(app, "Training", settings=settings, **stack_kw("training", "FaceFlow models"))
    if settings.github_repository:  # deployed once by hand: README, "Deploy from CI"
        DeliveryStack(app, "Delivery", settings=settings, **stack_kw("delivery", "CI deploy role"))
    add_checks(app)
    return app


if __name__ == "__main__":
    build_app(cdk.App()).synth()
