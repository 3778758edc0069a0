"""SageMaker asynchronous inference, emulated: the `InvokeEndpointAsync` wire API and its effects.

As on AWS: the call is accepted (202) with the output and failure locations; a worker per endpoint
instance slot later reads the request from S3, posts it to the model container's /invocations,
writes the response to `{S3OutputPath}/{inferenceId}.out` (or the error to
`{S3FailurePath}/{inferenceId}-error.out`) and publishes the notification JSON to the endpoint's
success or error topic. The wire format follows botocore's sagemaker-runtime service model.

No accepted request is lost, whatever fails: a container that dies mid-request (or does not answer)
fails it as `ModelError`, as SageMaker reports it; while the container restarts, requests wait for
it (SageMaker queues them while no instance is healthy); its S3 and SNS clients ride out an outage
of the local AWS (local/runtime.py's retry budget), as SageMaker's internal calls do.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import re
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from local.httpd import Listener, lower_headers, status_line
from local.topology import AsyncEndpointSpec

log = logging.getLogger("local.sagemaker")

_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/async-invocations$")
# Beyond this the container is considered hung; AWS's default InvocationTimeoutSeconds is 900.
DEFAULT_INVOCATION_TIMEOUT_S = 900
# How long a request waits for a (re)starting container before it fails as a dead model.
CONTAINER_READY_WAIT_S = 120


def parse_s3_uri(uri: str) -> tuple[str, str]:
    # style_backend's parser, imported late: `python -m local` imports this module before the
    # runtime puts lambda/shared on sys.path.
    from style_backend.storage.keys import parse_s3_uri as parse

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

    def __init__(
        self,
        endpoints: list[AsyncEndpointSpec],
        s3: Any,
        sns: Any,
        container_url: str,
        container_ready: Callable[[float], bool] | None = None,
    ):
        self.endpoints = {e.name: e for e in endpoints}
        self.s3 = s3
        self.sns = sns
        self.container_url = container_url.rstrip("/")
        # Waits up to N seconds for the container to answer /ping (None: never waits).
        self.container_ready = container_ready
        self.region = "us-west-2"
        self._queues: dict[str, queue.Queue[AsyncRequest | None]] = {}
        self._threads: list[threading.Thread] = []
        self.completed = 0
        self.failed = 0
        self.invocations: Counter[str] = Counter()  # inference id → requests the container got
        self._count_lock = threading.Lock()
        # Fault injection (tests): called once a request is in the container, before its answer.
        self.on_sent: Callable[[AsyncRequest], None] | None = None

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
            except Exception as err:  # never lose the request: its notification says why
                log.exception("async inference %s failed", request.inference_id)
                try:
                    self._fail(request, f"InternalFailure: {type(err).__name__}: {err}", b"")
                except Exception:
                    log.exception("async inference %s: no notification", request.inference_id)

    def _run(self, request: AsyncRequest) -> None:
        bucket, key = parse_s3_uri(request.input_location)
        try:
            payload = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as err:
            self._fail(request, f"ClientError: could not read the input: {err}", b"")
            return
        if self.container_ready is not None and not self.container_ready(CONTAINER_READY_WAIT_S):
            self._fail(request, "ModelError: the model container is not healthy", b"")
            return
        try:
            status, body, content_type = self._invoke_container(request, payload)
        except (OSError, http.client.HTTPException) as err:
            # Refused, reset, cut short or timed out: the container died or hung mid-request.
            reason = f"ModelError: the model container did not answer: {type(err).__name__}"
            self._fail(request, f"{reason}: {err}" if str(err) else reason, b"")
            return
        if status >= 400:
            self._fail(request, f"ClientError: Received server error ({status}) from model", body)
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

    def _invoke_container(self, request: AsyncRequest, payload: bytes) -> tuple[int, bytes, str]:
        """POST /invocations: (status, body, content type)."""
        url = urlsplit(self.container_url)
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=request.timeout_s)
        try:
            conn.request(
                "POST",
                "/invocations",
                body=payload,
                headers={"Content-Type": request.content_type, "Accept": request.accept},
            )
            with self._count_lock:
                self.invocations[request.inference_id] += 1
            if self.on_sent is not None:
                self.on_sent(request)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, body, resp.headers.get("Content-Type", "application/json")
        finally:
            conn.close()

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


def runtime_api(service: AsyncInference) -> Callable[..., Iterable[bytes]]:
    """The sagemaker-runtime wire API (AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME) as a WSGI app."""

    def reply(start_response, status: int, body: dict[str, Any], headers: dict[str, str]):
        data = json.dumps(body).encode()
        pairs = [("Content-Type", "application/json"), *headers.items()]
        start_response(status_line(status), [*pairs, ("Content-Length", str(len(data)))])
        return [data]

    def error(start_response, status: int, kind: str, message: str):
        return reply(start_response, status, {"message": message}, {"x-amzn-ErrorType": kind})

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        path = (environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")).split("?", 1)[0]
        m = _PATH.match(path)
        if environ["REQUEST_METHOD"] != "POST" or not m:
            return error(start_response, 404, "UnknownOperationException", "unknown operation")
        endpoint = service.endpoints.get(urllib.request.unquote(m["name"]))
        if endpoint is None:
            return error(start_response, 400, "ValidationError", f"Endpoint {m['name']} not found.")
        header = lower_headers(environ)
        location = header.get("x-amzn-sagemaker-inputlocation")
        if not location or not location.startswith("s3://"):
            return error(
                start_response, 400, "ValidationError", "InputLocation must be an s3:// URI"
            )
        timeout = header.get("x-amzn-sagemaker-invocationtimeoutseconds", "")
        if timeout and not timeout.isdigit():
            return error(start_response, 400, "ValidationError", "InvocationTimeoutSeconds")
        inference_id = header.get("x-amzn-sagemaker-inference-id") or _now()
        request = AsyncRequest(
            endpoint=endpoint,
            inference_id=inference_id,
            input_location=location,
            content_type=header.get("x-amzn-sagemaker-content-type") or "application/octet-stream",
            accept=header.get("x-amzn-sagemaker-accept") or "*/*",
            received_at=_now(),
            timeout_s=int(timeout) if timeout else DEFAULT_INVOCATION_TIMEOUT_S,
        )
        service.submit(request)
        headers = {"X-Amzn-SageMaker-OutputLocation": request.output_location}
        if request.failure_location:
            headers["X-Amzn-SageMaker-FailureLocation"] = request.failure_location
        return reply(start_response, 202, {"InferenceId": inference_id}, headers)

    return app


def render_error(status: int, detail: str) -> tuple[str, bytes]:
    """Errors waitress answers before the app runs, in the service's JSON error shape."""
    return "application/json", json.dumps({"message": detail.split("\n")[0][:200]}).encode()


def serve_runtime_api(service: AsyncInference, host: str = "127.0.0.1") -> Listener:
    """The sagemaker-runtime endpoint on a free port, served by waitress."""
    return Listener.bind(host, 0, render_error, name="sagemaker-runtime", threads=8).start(
        runtime_api(service)
    )
