"""The local backend, assembled: synthesize the CDK app, create its resources in moto, wire its
triggers, run its functions, emulate its async endpoint and serve its API.

`LocalBackend.start()` is what `make up` and the end-to-end tests run; `stop()` undoes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local import cloudfront, custom_resources, outbox, pipelines, s3front, seed, server, websocket
from local.auth import LocalAuth
from local.cfn import Resolver, StackTemplate, has_assembly, load_assembly
from local.container import ModelContainer, free_port  # noqa: F401 (re-exported)
from local.dispatcher import Dispatcher
from local.functions import FunctionHost
from local.httpd import Listener, check_port
from local.motoserver import MotoServer
from local.provision import Provisioner, UserPool
from local.sagemaker import AsyncInference, serve_runtime_api
from local.streams import StreamPoller
from local.topology import DistributionSpec, FunctionRef, FunctionSpec, RestApiSpec, Topology

log = logging.getLogger("local")

REPO = Path(__file__).resolve().parent.parent
# Deploy-time choices for a local run: no asset bundling (no Docker, no pip), the CPU swap engine.
LOCAL_CONTEXT = {
    "aws:cdk:bundling-stacks": [],
    "swap_engine": "cpu",
    "removal_policy": "destroy",
}
# Where the network-isolated model container's AWS calls go: nowhere (the discard port).
ISOLATED_ENDPOINT_URL = "http://127.0.0.1:9"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


AppBuilder = Callable[[Any], Any]
# Uploads are posted to the S3 front whole; S3's own POST limit is 5 GB, the app's far less.
S3_FRONT_MAX_BODY = 64 * 1024 * 1024
# botocore's standard mode backs off up to 20 s per attempt (full jitter): ~a minute in all.
RUNTIME_ATTEMPTS = 10


def synthesize(
    outdir: Path, context: dict[str, Any] | None = None, build_app: AppBuilder | None = None
) -> list[StackTemplate]:
    """Synthesize app.py's `build_app` (or a test's own app) in-process."""
    import aws_cdk as cdk

    if build_app is None:
        from app import build_app
    build_app(cdk.App(outdir=str(outdir), context=app_context(context))).synth()
    return load_assembly(outdir)


def app_context(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The local choices; `build_app` adds cdk.json's and cdk.context.json's context itself."""
    return {**LOCAL_CONTEXT, **(overrides or {})}


# What the synthesized app depends on: a change to any of these synthesizes again.
SYNTH_INPUTS = ("app.py", "cdk.json", "cdk.context.json", "stacks", "lambda", "byoc")
CACHE = REPO / ".local-state"


def _inputs_digest(context: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode())
    for name in SYNTH_INPUTS:
        root = REPO / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def synthesize_cached(context: dict[str, Any] | None = None) -> tuple[list[StackTemplate], bool]:
    """The app's assembly from .local-state/ when its inputs did not change (a synth with the
    cdk-nag checks takes ~30 s); otherwise synthesize and keep it. Returns (stacks, was_cached)."""
    key = _inputs_digest(app_context(context))
    target = CACHE / f"cdk.out-{key}"
    if has_assembly(target):
        return load_assembly(target), True
    CACHE.mkdir(exist_ok=True)
    for old in CACHE.glob("cdk.out-*"):  # finished assemblies of other inputs
        shutil.rmtree(old, ignore_errors=True)
    # Staging folders never match that glob: a concurrent start must not delete one mid-synth.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=CACHE))
    synthesize(staging, context)
    try:
        staging.rename(target)
    except OSError:  # another start synthesized the same inputs meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return load_assembly(target), False


@dataclass
class ClientConfig:
    """What a client needs, as `cdk deploy --outputs-file` would give it (GET /config.json)."""

    apiUrl: str
    region: str
    userPoolId: str
    userPoolClientId: str
    cognitoEndpoint: str
    websocketUrl: str = ""  # live progress (the WebSocket API's stage), "" when there is none


@dataclass
class LocalBackend:
    port: int = 8000
    host: str = "127.0.0.1"
    region: str = "us-west-2"
    concurrency: int = 2  # workers per function, like a reserved concurrency of 2
    context: dict[str, Any] = field(default_factory=dict)
    seed_styles: bool = True
    build_app: AppBuilder | None = None  # tests pass a small app of their own
    websocket_port: int = 0  # the WebSocket API's port (0: any free one)

    def start(self) -> None:
        """Each phase needs what the ones before it made; `stop()` undoes whatever started."""
        self._prepare_process()
        self._synthesize()
        self._start_local_aws()
        provisioner = self._provision()
        # Read once provisioning bound what only moto generates: their environment names it.
        functions = self.topology.functions()
        self._start_inference()
        self.hosts = self._function_hosts(functions)
        # Deploy-time custom resources (the share signing keys), as CloudFormation runs them.
        custom_resources.run_all(
            self.topology, self.invoke, self.client("s3"), self._s3_presigner(), self.region
        )
        self._start_triggers(provisioner, functions)
        self._serve()

    def _prepare_process(self) -> None:
        check_port(self.host, self.port)  # fail in a second, not after the whole start
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
        if str(REPO / "lambda/shared") not in sys.path:
            sys.path.append(str(REPO / "lambda/shared"))  # the domain package (seeding)

    def _synthesize(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="style-local-")
        if self.build_app is None:
            self.stacks, self.synth_cached = synthesize_cached(self.context)
        else:
            outdir = Path(self._tmp.name) / "cdk.out"
            self.stacks, self.synth_cached = synthesize(outdir, self.context, self.build_app), False

    def _start_local_aws(self) -> None:
        """moto's server, the S3 front clients see before it, and the runtime's own session."""
        self.moto = MotoServer(self.host)
        self.moto.start()
        self.aws_url = self.moto.url
        # S3 as clients see it: signatures, expiry and POST policies checked, then moto.
        self.s3_front = Listener.bind(
            self.host, 0, s3front.render_error, name="s3-front", max_body_bytes=S3_FRONT_MAX_BODY
        ).start(
            s3front.S3Front(
                self.aws_url,
                {FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]: FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]},
                self.region,
            )
        )
        self.s3_url = self.s3_front.url
        self._session = boto3.session.Session(
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def _provision(self) -> Provisioner:
        """The templates' resources in moto, and the CloudFront listeners (their domains are in
        the functions' environment). Returns the provisioner, which creates triggers later."""
        self.resolver = Resolver(self.stacks, self.region, self.aws_url)
        self.topology = Topology(self.stacks, self.resolver)
        provisioner = Provisioner(self.topology, self.client, self.region)
        provisioner.create_storage()
        pipelines.provision(self.topology, self.client)  # queues, S3 → SQS, state machines
        self.user_pools: list[UserPool] = provisioner.create_user_pools()
        self.cloudfronts = self._serve_distributions()
        self._bind_websocket_api()
        return provisioner

    def _bind_websocket_api(self) -> None:
        """The WebSocket API's port, bound now: its ApiEndpoint is in the functions'
        environment (the publisher's management endpoint). It serves once the functions run."""
        specs = self.topology.websocket_apis()
        self.websocket_spec = specs[0] if specs else None
        if self.websocket_spec is None:
            return
        self._ws_socket = socket.create_server((self.host, self.websocket_port))
        self.websocket_port = self._ws_socket.getsockname()[1]
        spec = self.websocket_spec
        self.resolver.bind(
            spec.stack, spec.logical_id, "local", ApiEndpoint=self.websocket_base, ApiId="local"
        )

    def _serve_websocket_api(self) -> None:
        if self.websocket_spec is None:
            return
        self.websockets = websocket.WebSocketApi(self.websocket_spec, self.invoke)
        threading.Thread(
            target=self.websockets.serve_on, args=(self._ws_socket,), name="websocket", daemon=True
        ).start()

    def _start_inference(self) -> None:
        """The model container and the asynchronous inference emulator in front of it."""
        self.endpoints = self.topology.async_endpoints()
        self.container = ModelContainer(self._container_env())
        self.container.start()
        self.inference = AsyncInference(
            self.endpoints,
            self.client("s3"),
            self.client("sns"),
            self.container.url,
            self.container.wait_ready,
        )
        self.inference.region = self.region
        self.inference.start()
        self.sagemaker_api = serve_runtime_api(self.inference, self.host)

    def _function_hosts(self, functions: list[FunctionSpec]) -> dict[FunctionRef, FunctionHost]:
        """The functions' workers, with the local endpoints in their environment."""
        from facekit import MODELS_DIR_ENV  # lambda/shared is on sys.path by now (seeding)
        from facekit.models import DEV_MODELS_DIR

        local_env = {
            **FAKE_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ENDPOINT_URL_S3": self.s3_url,
            "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": self.sagemaker_api.url,
            # The local CloudFront speaks http (faceflow.domain.signing writes https otherwise).
            "SHARE_URL_SCHEME": "http",
        }
        # An image's models (its /opt/face_models) are the checksum-pinned files set-up fetched.
        image_env = {**local_env, MODELS_DIR_ENV: str(DEV_MODELS_DIR)}
        return {
            f.ref: FunctionHost(f, image_env if f.image else local_env, self.concurrency)
            for f in functions
        }

    def _start_triggers(self, provisioner: Provisioner, functions: list[FunctionSpec]) -> None:
        """The trigger queues and their pollers, then the pipelines (SQS → Lambda mappings, the
        Lambda front of Step Functions)."""
        self.triggers = provisioner.create_triggers({f.ref: f.timeout_s for f in functions})
        self.dispatcher = Dispatcher(
            self.client("sqs"),
            self.triggers,
            self.invoke,
            {f.ref: f.max_event_retries for f in functions},
            pollers_per_trigger=self.concurrency,
        )
        self.dispatcher.start()
        self.pipelines = pipelines.LocalPipelines(self).start()
        self.streams = StreamPoller(
            self.client, self.topology.stream_mappings(), self.invoke, self.region
        ).start()

    def _serve(self) -> None:
        """Seed the styles, warm the served functions up and open the port."""
        self.apis = self.topology.rest_apis()
        self.seeded: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        if self.container.problem:
            self.warnings.append(f"model container: {self.container.problem}")
        if self.seed_styles:
            self._seed()
        self._serve_websocket_api()
        self._warm_up()
        self.http = Listener.bind(self.host, self.port, server.render_error, name="http")
        self.port = self.http.port
        self.http.start(self._front())

    def _warm_up(self) -> None:
        """Init phases (imports, face models) in the background, before the first events."""
        served = (
            {t.function for t in self.triggers}
            | {r.function for api in self.apis for r in api.routes}
            | {m.function for m in self.streams.mappings}
            | set(self.websocket_spec.routes.values() if self.websocket_spec else ())
        )
        threading.Thread(
            target=lambda: [self.hosts[f].warm() for f in sorted(served, key=str)],
            name="warm-up",
            daemon=True,
        ).start()

    def _serve_distributions(self) -> list[tuple[DistributionSpec, Listener]]:
        """Each CloudFront distribution on a port of its own; its DomainName is that address."""
        served = []
        for spec in self.topology.distributions():
            group = spec.key_group

            def keys(group=group) -> dict[str, str]:
                return self.topology.key_group_keys(*group) if group else {}

            listener = Listener.bind(self.host, 0, cloudfront.render_error, name="cloudfront")
            listener.start(cloudfront.CloudFrontFront(spec, self.client("s3"), keys))
            domain = f"{self.host}:{listener.port}"
            self.resolver.bind(
                spec.stack,
                spec.logical_id,
                f"LOCAL{spec.logical_id[:8].upper()}",
                DomainName=domain,
                Id=f"LOCAL{spec.logical_id[:8].upper()}",
            )
            served.append((spec, listener))
        return served

    def _s3_presigner(self) -> Any:
        """A client whose presigned URLs point at the S3 front (it checks them)."""
        return self._session.client(
            "s3", endpoint_url=self.s3_url, config=Config(signature_version="s3v4")
        )

    def _front(self) -> server.Front:
        api = self.api
        gateway = self._gateway() if api else None
        pool = self.user_pools[0] if self.user_pools and self.user_pools[0].client_ids else None
        auth = None
        if pool:
            origins = {self.base_url, f"http://localhost:{self.port}"}
            auth = LocalAuth(self.client("cognito-idp"), pool.pool_id, pool.client_ids[0], origins)
        return server.Front(
            api.stage if api else None,
            gateway,
            asdict(self.client_config()),
            auth,
            outbox=lambda: outbox.sent_emails(self.region),
            hosts=server.ServedHosts(self.host, self.port),
        )

    def _gateway(self) -> server.Gateway | None:
        """`local.apigw.ApiGateway` over the template's routes, each calling its function."""
        try:
            from local.apigw import ApiGateway, CognitoTokenVerifier, Route
        except ImportError as err:
            log.warning("API not served: %s", err)
            return None
        pool = self.user_pools[0]
        with urllib.request.urlopen(f"{self.aws_url}/{pool.pool_id}/.well-known/jwks.json") as r:
            jwks = json.load(r)
        verifier = CognitoTokenVerifier(
            jwks,
            issuer=f"https://cognito-idp.{self.region}.amazonaws.com/{pool.pool_id}",
            client_id=pool.client_ids[0],
        )
        invoke = self.invoke

        def handler_of(ref: FunctionRef):
            return lambda event, _context: invoke(ref, event)

        routes = [Route(r.method, r.path, handler_of(r.function)) for r in self.api.routes]
        return ApiGateway(routes, verifier, stage=self.api.stage).handle

    def _seed(self) -> None:
        env = self.environment_of("styles.handler")
        aws_env = {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        try:
            self.seeded = seed.seed_styles(env["BUCKET_NAME"], env["BASE_RESOURCE_TABLE"], aws_env)
        except (LookupError, seed.SeedFailed) as err:
            self.warnings.append(f"no styles seeded: {err}")

    def _container_env(self) -> dict[str, str]:
        endpoint = self.endpoints[0] if self.endpoints else None
        isolated = endpoint is not None and endpoint.network_isolated
        dropped = "AWS_" if isolated else "AWS_ENDPOINT_URL"
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        model_env = endpoint.container_environment if endpoint else {}
        env.update({k: v for k, v in model_env.items() if not v.startswith("/opt/")})
        if isolated:
            # As on SageMaker, the isolated container reaches no AWS: no credentials, and an
            # endpoint nothing listens on, so a stray call fails at once instead of going out.
            env.update(AWS_ENDPOINT_URL=ISOLATED_ENDPOINT_URL)
        else:
            env.update(FAKE_CREDENTIALS)
            env.update(
                AWS_REGION=self.region,
                AWS_DEFAULT_REGION=self.region,
                AWS_ENDPOINT_URL=self.aws_url,
            )
        env.update(
            SWAP_ENGINE=self.context.get("swap_engine", LOCAL_CONTEXT["swap_engine"]),
            PYTHONPATH=os.pathsep.join(str(REPO / p) for p in ("byoc/facechain", "lambda/shared")),
        )
        return env

    def client(self, service: str) -> Any:
        """A client of the local AWS (clients are thread-safe; one per service is kept). The
        runtime stands in for AWS's own machinery (Lambda's event queues, SageMaker's writes),
        which outlives an outage of the services it calls: its retries span about a minute."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.aws_url,
                    config=Config(retries={"mode": "standard", "max_attempts": RUNTIME_ATTEMPTS}),
                )
            return self._clients[service]

    def invoke(self, function: FunctionRef, event: dict[str, Any]) -> Any:
        return self.hosts[function].invoke(event)

    def function_by_handler(self, handler: str) -> FunctionRef:
        matches = [h.ref for h in self.hosts.values() if h.spec.handler == handler]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} functions have handler {handler!r}")
        return matches[0]

    def environment_of(self, handler: str) -> dict[str, str]:
        return self.hosts[self.function_by_handler(handler)].spec.environment

    @property
    def api(self) -> RestApiSpec | None:
        return self.apis[0] if self.apis else None

    @property
    def websocket_base(self) -> str:
        return f"ws://{self.host}:{self.websocket_port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client_config(self) -> ClientConfig:
        pool = self.user_pools[0] if self.user_pools else None
        stage = self.api.stage if self.api else "prod"
        return ClientConfig(
            apiUrl=f"{self.base_url}/{stage}/",
            region=self.region,
            userPoolId=pool.pool_id if pool else "",
            userPoolClientId=pool.client_ids[0] if pool and pool.client_ids else "",
            cognitoEndpoint=self.aws_url,
            websocketUrl=f"{self.websocket_base}/{self.websocket_spec.stage}"
            if self.websocket_spec
            else "",
        )

    def stop(self) -> None:
        # In this order; a part that never started (Ctrl-C during start) is skipped.
        steps = {
            "http": lambda part: part.close(),
            "websockets": lambda part: part.close(),
            "_ws_socket": lambda part: part.close(),
            "streams": lambda part: part.stop(),
            "dispatcher": lambda part: part.stop(),
            "pipelines": lambda part: part.stop(),
            "inference": lambda part: part.stop(),
            "sagemaker_api": lambda part: part.close(),
            "s3_front": lambda part: part.close(),
            "cloudfronts": lambda part: [listener.close() for _, listener in part],
            "hosts": lambda part: [host.close() for host in part.values()],
            "container": lambda part: part.stop(),
            "moto": lambda part: part.stop(),
            "_tmp": lambda part: part.cleanup(),
        }
        for name, close in steps.items():
            part = getattr(self, name, None)
            if part is None:
                continue
            try:
                close(part)
            except Exception as err:  # keep shutting the rest down
                print(f"shutdown: {err}", file=sys.stderr)
