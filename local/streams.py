"""DynamoDB stream → Lambda event source mappings, run locally: one poller per mapping reads its
table's stream in moto (DescribeStream, GetShardIterator, GetRecords, as Lambda's poller does),
keeps the records the mapping's filter criteria match, and invokes the function with a batch.

As on AWS: records of a shard arrive in order, one batch at a time (a batch is retried while the
function fails, up to the mapping's MaximumRetryAttempts, then skipped: a live-progress message
is not worth stopping the stream for); a mapping starting at LATEST sees only what is written
after it started. Filters (Lambda's event filtering): the pattern syntax the templates use,
exact values, `prefix`, `exists`, nested objects; a record matches when one pattern matches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from local.functions import InvocationError
from local.topology import StreamMappingSpec

log = logging.getLogger("local.streams")
POLL_INTERVAL_S = 0.1  # Lambda polls a shard about 4 times a second; locally, a bit faster


def matches(pattern: Any, value: Any) -> bool:
    """Does `value` (a record, or a part of it) match an event filtering `pattern`?"""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(
            _field_matches(rule, name in value, value.get(name)) for name, rule in pattern.items()
        )
    return False


def _field_matches(rule: Any, present: bool, value: Any) -> bool:
    if isinstance(rule, dict):
        return present and matches(rule, value)
    return any(_value_matches(option, present, value) for option in rule)


def _value_matches(option: Any, present: bool, value: Any) -> bool:
    if isinstance(option, dict):
        if "exists" in option:
            return present == bool(option["exists"])
        if "prefix" in option:
            return present and isinstance(value, str) and value.startswith(option["prefix"])
        if "anything-but" in option:
            excluded = option["anything-but"]
            return present and value not in (excluded if isinstance(excluded, list) else [excluded])
        raise ValueError(f"filter rule {option!r} is not supported locally")
    return present and value == option


def record_matches(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """No filters: every record; else a record one of them matches."""
    return not filters or any(matches(f, record) for f in filters)


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over: the source ARN added, times as epoch s."""
    out = json.loads(json.dumps(record, default=str))
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        out["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    out["eventSourceARN"] = stream_arn
    out["awsRegion"] = region
    return out


class StreamPoller:
    """One thread per mapping; `stop()` ends them."""

    def __init__(
        self,
        client: Callable[[str], Any],
        mappings: list[StreamMappingSpec],
        invoke: Callable[[Any, dict[str, Any]], Any],
        region: str,
    ):
        self.client = client
        self.mappings = mappings
        self.invoke = invoke
        self.region = region
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivered = 0
        self.skipped_batches = 0

    def start(self) -> StreamPoller:
        # Iterators are taken before the threads run: what is written after start() is seen.
        for mapping in self.mappings:
            arn, iterators = self._iterators(mapping)
            t = threading.Thread(
                target=self._poll,
                args=(mapping, arn, iterators),
                name=f"stream-{mapping.table}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def _iterators(self, mapping: StreamMappingSpec) -> tuple[str, list[str]]:
        arn = self.client("dynamodb").describe_table(TableName=mapping.table)["Table"][
            "LatestStreamArn"
        ]
        streams = self.client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return arn, [
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=mapping.starting_position
            )["ShardIterator"]
            for shard in shards
        ]

    def _poll(self, mapping: StreamMappingSpec, arn: str, iterators: list[str]) -> None:
        while not self._stop.is_set():
            for i, iterator in enumerate(iterators):
                try:
                    iterators[i] = self._read(mapping, arn, iterator)
                except Exception:  # a poller never dies: the next round reads again
                    if self._stop.is_set():
                        return
                    log.exception("%s: reading the stream failed", mapping.table)
            self._stop.wait(POLL_INTERVAL_S)

    def _read(self, mapping: StreamMappingSpec, arn: str, iterator: str) -> str:
        """One GetRecords of a shard, its matching records delivered; the next iterator."""
        answer = self.client("dynamodbstreams").get_records(
            ShardIterator=iterator, Limit=mapping.batch_size
        )
        records = [
            lambda_record(r, arn, self.region)
            for r in answer.get("Records", [])
            if record_matches(mapping.filters, r)
        ]
        if records:
            self._deliver(mapping, records)
        return answer.get("NextShardIterator") or iterator

    def _deliver(self, mapping: StreamMappingSpec, records: list[dict[str, Any]]) -> None:
        for attempt in range(mapping.max_retries + 1):
            try:
                self.invoke(mapping.function, {"Records": records})
                self.delivered += len(records)
                return
            except InvocationError as err:
                log.warning(
                    "%s failed on %d stream records (attempt %d): %s",
                    mapping.function,
                    len(records),
                    attempt + 1,
                    err,
                )
                if self._stop.wait(min(2**attempt, 5)):
                    return
        self.skipped_batches += 1
        log.error("%s: %d stream records skipped after retries", mapping.function, len(records))
