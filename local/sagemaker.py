"""SageMaker asynchronous inference, emulated: the `InvokeEndpointAsync` wire API and its effects.

As on AWS: the call is accepted (202) with the output and failure locations; a worker per endpoint
instance slot later reads the request from S3, posts it to the model container's /invocations,
writes the response to `{S3OutputPath}/{inferenceId}.out` (or the error to
`{S3FailurePath}/{inferenceId}-error.out`) and publishes the notification JSON to the endpoint's
success or error topic. The wire format follows botocore's sagemaker-runtime service model.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.topology import AsyncEndpointSpec

log = logging.getLogger("local.sagemaker")

_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/async-invocations$")
# Beyond this the container is considered hung; AWS's default InvocationTimeoutSeconds is 900.
DEFAULT_INVOCATION_TIMEOUT_S = 900


def parse_s3_uri(uri: str) -> tuple[str, str]:
    # style_backend's parser, imported late: `python -m local` imports this module before the
    # runtime puts lambda/shared on sys.path.
    from style_backend.keys import parse_s3_uri as parse

    return parse(uri)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class AsyncRequest:
    endpoint: AsyncEndpointSpec
    inference_id: str
    input_location: str
    content_type: str
    accept: str
    received_at: str
    timeout_s: int

    @property
    def output_location(self) -> str:
        return f"{self.endpoint.output_path.rstrip('/')}/{self.inference_id}.out"

    @property
    def failure_location(self) -> str | None:
        if not self.endpoint.failure_path:
            return None
        return f"{self.endpoint.failure_path.rstrip('/')}/{self.inference_id}-error.out"


class AsyncInference:
    """Accepts requests and runs them against the model container, one queue per endpoint."""

    def __init__(self, endpoints: list[AsyncEndpointSpec], s3: Any, sns: Any, container_url: str):
        self.endpoints = {e.name: e for e in endpoints}
        self.s3 = s3
        self.sns = sns
        self.container_url = container_url.rstrip("/")
        self.region = "us-west-2"
        self._queues: dict[str, queue.Queue[AsyncRequest | None]] = {}
        self._threads: list[threading.Thread] = []
        self.completed = 0
        self.failed = 0

    def start(self) -> None:
        for endpoint in self.endpoints.values():
            q: queue.Queue[AsyncRequest | None] = queue.Queue()
            self._queues[endpoint.name] = q
            for i in range(endpoint.max_concurrency):
                t = threading.Thread(
                    target=self._work, args=(q,), name=f"sagemaker-{endpoint.name}-{i}", daemon=True
                )
                t.start()
                self._threads.append(t)

    def stop(self) -> None:
        for name, q in self._queues.items():
            for _ in range(self.endpoints[name].max_concurrency):
                q.put(None)
        for t in self._threads:
            t.join(timeout=5)

    def submit(self, request: AsyncRequest) -> None:
        self._queues[request.endpoint.name].put(request)

    def _work(self, q: queue.Queue[AsyncRequest | None]) -> None:
        while (request := q.get()) is not None:
            try:
                self._run(request)
            except Exception:  # never lose the worker; the request's notification says why
                log.exception("async inference %s failed", request.inference_id)

    def _run(self, request: AsyncRequest) -> None:
        bucket, key = parse_s3_uri(request.input_location)
        try:
            payload = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as err:
            self._fail(request, f"ClientError: could not read the input: {err}", b"")
            return
        http = urllib.request.Request(
            f"{self.container_url}/invocations",
            data=payload,
            method="POST",
            headers={"Content-Type": request.content_type, "Accept": request.accept},
        )
        try:
            with urllib.request.urlopen(http, timeout=request.timeout_s) as resp:
                body = resp.read()
                content_type = resp.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as err:
            body = err.read()
            reason = f"ClientError: Received server error ({err.code}) from model"
            self._fail(request, reason, body)
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            self._fail(request, f"ModelError: the model container did not answer: {err}", b"")
            return
        out_bucket, out_key = parse_s3_uri(request.output_location)
        self.s3.put_object(Bucket=out_bucket, Key=out_key, Body=body, ContentType=content_type)
        self.completed += 1
        self._notify(
            request,
            request.endpoint.success_topic,
            "Completed",
            {"contentType": content_type, "outputLocation": request.output_location},
        )

    def _fail(self, request: AsyncRequest, reason: str, body: bytes) -> None:
        self.failed += 1
        response: dict[str, Any] = {"contentType": "application/json"}
        if request.failure_location:
            bucket, key = parse_s3_uri(request.failure_location)
            self.s3.put_object(Bucket=bucket, Key=key, Body=body or reason.encode())
            response["failureLocation"] = request.failure_location
        self._notify(request, request.endpoint.error_topic, "Failed", response, reason)

    def _notify(
        self,
        request: AsyncRequest,
        topic: str | None,
        status: str,
        response: dict[str, Any],
        failure_reason: str | None = None,
    ) -> None:
        if not topic:
            return
        message: dict[str, Any] = {
            "awsRegion": self.region,
            "eventTime": _now(),
            "receivedTime": request.received_at,
            "invocationStatus": status,
            "requestParameters": {
                "accept": request.accept,
                "contentType": request.content_type,
                "endpointName": request.endpoint.name,
                "inputLocation": request.input_location,
            },
            "responseParameters": response,
            "inferenceId": request.inference_id,
            "eventVersion": "1.0",
            "eventSource": "aws:sagemaker",
            "eventName": "InferenceResult",
        }
        if failure_reason:
            message["failureReason"] = failure_reason
        self.sns.publish(TopicArn=topic, Message=json.dumps(message))


def _handler_class(service: AsyncInference) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stall

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

        def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._reply(status, {"message": message}, {"x-amzn-ErrorType": kind})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            m = _PATH.match(self.path.split("?", 1)[0])
            if not m:
                self._error(404, "UnknownOperationException", f"no operation at {self.path}")
                return
            endpoint = service.endpoints.get(urllib.request.unquote(m["name"]))
            if endpoint is None:
                self._error(400, "ValidationError", f"Endpoint {m['name']} not found.")
                return
            location = self.headers.get("X-Amzn-SageMaker-InputLocation")
            if not location or not location.startswith("s3://"):
                self._error(400, "ValidationError", "InputLocation must be an s3:// URI")
                return
            inference_id = self.headers.get("X-Amzn-SageMaker-Inference-Id") or _now()
            timeout = self.headers.get("X-Amzn-SageMaker-InvocationTimeoutSeconds")
            request = AsyncRequest(
                endpoint=endpoint,
                inference_id=inference_id,
                input_location=location,
                content_type=self.headers.get("X-Amzn-SageMaker-Content-Type")
                or "application/octet-stream",
                accept=self.headers.get("X-Amzn-SageMaker-Accept") or "*/*",
                received_at=_now(),
                timeout_s=int(timeout) if timeout else DEFAULT_INVOCATION_TIMEOUT_S,
            )
            service.submit(request)
            headers = {"X-Amzn-SageMaker-OutputLocation": request.output_location}
            if request.failure_location:
                headers["X-Amzn-SageMaker-FailureLocation"] = request.failure_location
            self._reply(202, {"InferenceId": inference_id}, headers)

    return Handler


def serve_runtime_api(service: AsyncInference, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The sagemaker-runtime endpoint (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME) on a free port."""
    server = ThreadingHTTPServer((host, 0), _handler_class(service))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sagemaker-runtime", daemon=True).start()
    return server
