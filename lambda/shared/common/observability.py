"""Logs, traces and metrics of every function, on Powertools for AWS Lambda.

- `logger`: JSON lines with the Lambda request id, cold start, the function's service name
  (POWERTOOLS_SERVICE_NAME) and a correlation id: API Gateway's request id on API calls, the
  processId in the image pipeline (`bind`).
- `tracer()`: X-Ray segments around every handler (active tracing is on in the stacks); it switches
  itself off outside Lambda, and the local runtime turns it off (POWERTOOLS_TRACE_DISABLED).
- `metrics`: business metrics as CloudWatch embedded metric format (EMF) lines on stdout.
"""

from __future__ import annotations

import functools
import os
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["MetricUnit", "bind", "count", "lambda_entry", "logger", "metrics", "tracer"]

METRIC_NAMESPACE = "StyleBackend"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "style-backend")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRIC_NAMESPACE, service=SERVICE)
# Most invocations record no business metric: that is normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")


@functools.cache
def tracer() -> Tracer:
    """Made on first use: the X-Ray SDK loads botocore, which importing a route must not."""
    return Tracer(service=SERVICE)


@dataclass
class _NoContext:
    """Stands in for the Lambda context when a handler is called without one (tests)."""

    function_name: str = field(default_factory=lambda: SERVICE)
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = 0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 0


def lambda_entry(correlation_id_path: str | None = None) -> Callable:
    """Wrap a Lambda handler: logger context (request id, cold start, correlation id, state
    cleared per invocation), an X-Ray segment, and one EMF flush of the metrics it added."""

    def wrap(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        @functools.cache
        def instrumented() -> Callable[[Any, Any], Any]:
            return logger.inject_lambda_context(
                correlation_id_path=correlation_id_path, clear_state=True
            )(tracer().capture_lambda_handler(metrics.log_metrics(handler)))

        @functools.wraps(handler)
        def entry(event: Any, context: Any = None) -> Any:
            return instrumented()(event, context if context is not None else _NoContext())

        return entry

    return wrap


def bind(log: Logger, **ids: Any) -> Logger:
    """Put `ids` (processId, userId, resourceId…) on every following line of this invocation;
    the processId becomes the correlation id."""
    ids = {k: v for k, v in ids.items() if v is not None}
    log.append_keys(**ids)
    if "processId" in ids:
        log.set_correlation_id(ids["processId"])
    return log


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """One metric with its own dimensions (a reason, a project…), flushed at once as EMF."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=METRIC_NAMESPACE
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
