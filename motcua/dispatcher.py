"""The local stand-in for Lambda's event source mappings.

It reads the table streams and SQS queues listed in chalicelib.runtime.resources and invokes the
very same handler functions Lambda would, with the same event shapes and the same
partial-batch-failure contract:

* stream records are delivered in order; a reported failure (or an exception) makes the
  batch be re-delivered from the first failed record, as Lambda does;
* SQS messages reported as failed are left on the queue, so the redrive policy moves them
  to the DLQ after ``max_receive_count`` receives.

``drain()`` runs everything until no progress is made (for tests); ``start()`` polls in one
thread per handler (for ``make run``), as Lambda's mappings run independently.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from moto.events.models import EventPattern  # the local stack already runs on moto; reuse its matcher

from chalicelib.runtime import resources
from chalicelib.runtime.settings import Settings


def load_handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    module, _, function = path.partition(":")
    return getattr(importlib.import_module(module), function)


@dataclass
class LambdaContext:
    """Enough of Lambda's context object for Powertools' logger and metrics."""
    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def _as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """GetRecords output -> the record shape Lambda passes (epoch seconds, source ARN)."""
    record = dict(record)
    record["dynamodb"] = dict(record["dynamodb"])
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    record["eventSourceARN"] = stream_arn
    return record


class StreamPump:
    def __init__(self, consumer: resources.StreamConsumer, cfg: Settings, session: Any,
                 handler: Callable[..., Any] | None = None) -> None:
        self.consumer = consumer
        self.handler = handler or load_handler(consumer.handler)
        self.pattern = EventPattern(None, consumer.filter_pattern or {})
        self.streams = session.client("dynamodbstreams", region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url)
        ddb = session.client("dynamodb", region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url)
        self.arn = ddb.describe_table(TableName=cfg.name(consumer.table))["Table"]["LatestStreamArn"]
        self.last_sequence: dict[str, str] = {}   # per shard: the last record read
        self.pending: list[dict[str, Any]] = []   # records handed out but not yet acknowledged
        self.failures = 0

    def _fetch(self) -> list[dict[str, Any]]:
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            # A fresh iterator after the last record read, every round (as Lambda re-positions
            # after an expired iterator): moto's iterator holds the shard object, and a cancelled
            # transaction restores a deep copy of the table, shard included, so a kept iterator
            # would read a dead copy forever and every later event would be lost (found by the soak).
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_sequence[shard_id]}
                        if shard_id in self.last_sequence else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)["ShardIterator"]
            result = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            if result["Records"]:
                self.last_sequence[shard_id] = result["Records"][-1]["dynamodb"]["SequenceNumber"]
            records.extend(_as_lambda_record(record, self.arn) for record in result["Records"])
        return records

    def step(self) -> bool:
        """Deliver one batch. Returns True if anything was delivered."""
        self.pending.extend(r for r in self._fetch() if self.pattern.matches_event(r))
        if not self.pending:
            return False
        batch = self.pending[: self.consumer.batch_size]
        try:
            result = self.handler({"Records": batch}, LambdaContext(self.consumer.name)) or {}
        except Exception:
            self.failures += 1
            logging.getLogger("motcua.dispatcher").exception("stream consumer %s failed", self.consumer.name)
            return True  # keep the batch pending: it is re-delivered next step
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        if failed:
            self.failures += 1
            first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
            self.pending = batch[first:] + self.pending[len(batch):]
        else:
            self.pending = self.pending[len(batch):]
        return True


class QueuePump:
    def __init__(self, consumer: resources.QueueConsumer, cfg: Settings, session: Any,
                 handler: Callable[..., Any] | None = None) -> None:
        self.consumer = consumer
        self.handler = handler or load_handler(consumer.handler)
        self.sqs = session.client("sqs", region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url)
        self.url = self.sqs.get_queue_url(QueueName=cfg.name(consumer.queue))["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = resources.queue_named(consumer.queue)
        self.backs_off = bool(queue and queue.retry_backoff)   # the handler sets each retry's delay
        self.failures = 0

    def step(self, wait_seconds: int = 0) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=min(self.consumer.batch_size, 10),
            WaitTimeSeconds=wait_seconds, AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return False
        records = [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": "local",
        } for m in messages]
        try:
            result = self.handler({"Records": records}, LambdaContext(self.consumer.name)) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:
            failed = {r["messageId"] for r in records}
        if failed:
            self.failures += 1
        done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                for i, r in enumerate(records) if r["messageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.url, Entries=done)
        for r in records:
            if r["messageId"] in failed and not self.backs_off:  # visible again now, as after the timeout
                self.sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=r["receiptHandle"],
                                                   VisibilityTimeout=0)
        return True


class SchedulePump:
    """Runs a scheduled handler on its rate, as EventBridge Scheduler would; first after one
    full period, so ``drain()`` in tests never triggers it by surprise."""

    def __init__(self, schedule: Any, handler: Callable[..., Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.schedule = schedule
        self.handler = handler or load_handler(schedule.handler)
        self.clock = clock
        self.next_run = clock() + schedule.rate_minutes * 60
        self.failures = 0

    def step(self) -> bool:
        """Run if due. Never counts as progress: a run's writes reach the other pumps anyway."""
        if self.clock() < self.next_run:
            return False
        self.next_run = self.clock() + self.schedule.rate_minutes * 60
        try:
            self.handler({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}},
                         LambdaContext(self.schedule.name))
        except Exception:
            self.failures += 1
        return False


class Dispatcher:
    def __init__(self, cfg: Settings, session: Any) -> None:
        self.pumps: list[Any] = [StreamPump(c, cfg, session) for c in resources.STREAM_CONSUMERS]
        self.pumps += [QueuePump(c, cfg, session) for c in resources.QUEUE_CONSUMERS]
        self.pumps += [SchedulePump(s) for s in resources.SCHEDULES]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def drain(self, max_rounds: int = 100) -> int:
        """Run every pump until a whole round delivers nothing. Returns the rounds used."""
        for round_number in range(max_rounds):
            if not any(pump.step() for pump in self.pumps):
                return round_number
        return max_rounds

    def run_forever(self, pumps: list[Any] | None = None, interval: float = 0.2) -> None:
        pumps = self.pumps if pumps is None else pumps
        while not self._stop.is_set():
            try:
                busy = any(pump.step() for pump in pumps)
            except Exception:  # the moto server going away at shutdown, mostly; said, never hidden
                if not self._stop.is_set():
                    logging.getLogger("motcua.dispatcher").exception("dispatcher round failed")
                busy = False
            if not busy:
                self._stop.wait(interval)

    def start(self) -> None:
        """One polling thread per handler, as each Lambda event source mapping polls on its own:
        a slow consumer (the receipts' PDFs) or a backlog on one queue no longer holds up the
        publisher and every other consumer (the soak found the single loop falling minutes
        behind). Pumps that share a handler (connectors) share a thread, so one handler object
        never runs twice at once."""
        groups: dict[Any, list[Any]] = {}
        for pump in self.pumps:
            groups.setdefault(pump.handler, []).append(pump)
        self._threads = [threading.Thread(target=self.run_forever, args=(pumps,), daemon=True,
                                          name=f"dispatcher-{_pump_name(pumps[0])}") for pumps in groups.values()]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Ask every polling thread to stop and wait ``timeout`` seconds in all (not per
        thread) for the batches in flight; the threads are daemons, so a slow one cannot
        keep the stack from exiting."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _pump_name(pump: Any) -> str:
    return (pump.consumer if hasattr(pump, "consumer") else pump.schedule).name
