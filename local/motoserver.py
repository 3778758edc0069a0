"""The local AWS: moto's server app (S3, DynamoDB, Cognito, SNS, SQS, Step Functions) on a port of
the runtime's, with one fault the end-to-end tests inject: `refuse(seconds)`, an outage.

moto keeps its state in its backends, in this process, not in the server: the port can close and
open again and every table, object, queue and user is still there.

moto's routing is cached: its dispatcher, under one lock for every request, asks whether the host
names one of moto's modules by listing moto's package folder (hundreds of stat calls a request);
a host always routes to the same backend, so each is looked up once (`_CachedRouting`).

moto's DynamoDB Query reads one partition (`_partition_queries`): moto 5.2 sorts and walks every
item of the table for each Query (and each page of one), so a query cost the table's size and
the local pipeline slowed down as albums filled the table.

moto's DynamoDB is not thread-safe (a Query iterates a table's items while a concurrent PutItem
adds to them: "dictionary changed size during iteration", a 500), so its requests are served one
at a time; the other services stay concurrent.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from local.moto_dynamodb import cheap_transactions

_OUTAGE_BODY = (
    b"<Error><Code>ServiceUnavailable</Code>"
    b"<Message>The local AWS is refusing requests (fault injection).</Message></Error>"
)


def _cached_routing() -> Any:
    """moto's dispatcher with `get_backend_for_host` remembered per host (pure in the host)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class _CachedRouting(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            try:
                return self._backends[host]
            except KeyError:
                backend = self._backends[host] = super().get_backend_for_host(host)
                return backend

    return _CachedRouting()


_PARTITION = threading.local()  # the partition a Query of this thread reads, while it runs


def _partition_queries() -> None:
    """moto's Table.query, on the table's key or a local index (both name the partition), given
    that partition's items only: the others never match its hash key. Global indexes (another
    partition key) keep moto's walk. Idempotent; moto's answers are unchanged."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "partitioned", False):
        return
    query, all_items = Table.query, Table.all_items

    def partition_of(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> Any:
        if not table.range_key_attr:
            return None
        if index_name is None:
            return hash_key
        if index_name not in {index.name for index in table.indexes}:  # a GSI
            return None
        return dict(conditions or ()).get(table.hash_key_attr)

    def partitioned_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
        # scan_index_forward, projection_expressions, index_name, …): moto's own call.
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        key = partition_of(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        _PARTITION.table, _PARTITION.key = (self, key) if key is not None else (None, None)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _PARTITION.table = _PARTITION.key = None

    def partition_items(self: Any) -> list[Any]:
        if getattr(_PARTITION, "table", None) is not self:
            return all_items(self)
        found = self.items.get(_PARTITION.key, {})  # .get: never adds to the defaultdict
        return sorted(found.values(), key=lambda item: item.range_key)

    partitioned_query.partitioned = True  # type: ignore[attr-defined]
    Table.query, Table.all_items = partitioned_query, partition_items


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        _partition_queries()
        cheap_transactions()  # local.moto_dynamodb: a transaction backs up its items only
        self.host = host
        self.port = port
        self._app = _cached_routing()
        self._refusing = threading.Event()
        self._dynamodb = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.outages = 0
        # Requests answered, by kind (benchmarks/bench_albums.py prints them per photo).
        self.requests: Counter[str] = Counter()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self._gate, threaded=True)
        self.port = self._server.server_port  # port 0: the one the system chose, kept on restart
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    def _gate(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if self._refusing.is_set():  # accepted just before the port closed
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(_OUTAGE_BODY)))],
            )
            return [_OUTAGE_BODY]
        self.requests[_kind(environ)] += 1  # a figure, not accounting: racing threads may lose one
        # DynamoDB and DynamoDB Streams (`X-Amz-Target: DynamoDB_20120810.Query`, …).
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with self._dynamodb:
                return _read_whole(self._app(environ, start_response))
        return self._app(environ, start_response)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # the port is closed: connecting is refused
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def refuse(self, seconds: float) -> None:
        """Fault injection: the local AWS is down for `seconds` (this call blocks meanwhile).
        Connections are refused (werkzeug closes each after its answer: every call connects
        anew); a request accepted as the port closes gets 503 ServiceUnavailable. Then it answers
        again on the same port, its state intact."""
        self._refusing.set()
        self.outages += 1
        self.stop()
        try:
            time.sleep(seconds)
        finally:
            self.start()
            self._refusing.clear()


def _kind(environ: dict[str, Any]) -> str:
    """`DynamoDB_20120810.Query`, `AmazonSQS.ReceiveMessage` (JSON protocols name their action),
    else the signing service and the method: `s3 GET`."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target
    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)[-1].split("/")
    service = scope[3] if len(scope) > 3 else "unsigned"
    return f"{service} {environ.get('REQUEST_METHOD', '')}"


def _read_whole(answer: Iterable[bytes]) -> list[bytes]:
    """The whole body, read (and the iterable closed, as WSGI asks) under the caller's lock."""
    try:
        return [b"".join(answer)]
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
