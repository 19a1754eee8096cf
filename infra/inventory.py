"""What the stack is built from: the lists of chalicelib.runtime.resources, as one value.

The stack code loops over these lists and never names a table, queue or consumer, so what
other branches add to resources.py appears in the template by itself. Tests build stacks
from other inventories to prove that.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from chalicelib.runtime import resources as declared


@dataclass(frozen=True)
class Inventory:
    tables: tuple[declared.Table, ...]
    queues: tuple[declared.Queue, ...]
    rules: tuple[declared.Rule, ...]
    stream_consumers: tuple[declared.StreamConsumer, ...]
    queue_consumers: tuple[declared.QueueConsumer, ...]
    schedules: tuple[declared.Schedule, ...]
    invoked: tuple[declared.Invoked, ...]
    secrets: tuple[declared.Secret, ...]
    api_secrets: tuple[str, ...]
    api_objects: tuple[declared.Objects, ...]
    alarmed_metrics: tuple[declared.CustomMetric, ...]
    event_bus: str
    attachments_bucket: str

    @classmethod
    def declared(cls, **changes: Any) -> Inventory:
        base = cls(
            tables=declared.TABLES, queues=declared.QUEUES, rules=declared.RULES,
            stream_consumers=declared.STREAM_CONSUMERS, queue_consumers=declared.QUEUE_CONSUMERS,
            schedules=declared.SCHEDULES, invoked=declared.INVOKED, secrets=declared.SECRETS, api_secrets=declared.API_SECRETS,
            api_objects=declared.API_OBJECTS,
            alarmed_metrics=declared.ALARMED_METRICS, event_bus=declared.EVENT_BUS,
            attachments_bucket=declared.ATTACHMENTS_BUCKET)
        return replace(base, **changes)

    @property
    def deployed_queues(self) -> tuple[declared.Queue, ...]:
        return tuple(queue for queue in self.queues if not queue.local_only)

    @property
    def deployed_rules(self) -> tuple[declared.Rule, ...]:
        deployed = {queue.name for queue in self.deployed_queues}
        return tuple(rule for rule in self.rules if rule.queue in deployed)

    @property
    def functions(self) -> tuple[declared.StreamConsumer | declared.QueueConsumer | declared.Schedule
                                 | declared.Invoked, ...]:
        """Every Lambda besides the API."""
        return (*self.stream_consumers, *self.queue_consumers, *self.schedules, *self.invoked)

    @property
    def bundles(self) -> tuple[str, ...]:
        """The deployment packages besides the shared one that some function runs from."""
        return tuple(sorted({f.bundle for f in self.functions if f.bundle is not None}))

    @property
    def object_prefixes(self) -> tuple[str, ...]:
        """Every key prefix of the attachments bucket that some function may reach."""
        declared_objects = (*self.api_objects, *(o for f in self.functions for o in f.objects))
        return tuple(sorted({o.prefix for o in declared_objects}))

    def visibility_timeout(self, queue: declared.Queue) -> int:
        return declared.visibility_timeout(queue, self.queue_consumers)

    def check(self) -> None:
        """Refuse references to things that are not declared, before building anything."""
        tables = {table.name for table in self.tables}
        queues = {queue.name for queue in self.deployed_queues}
        secrets = {secret.name for secret in self.secrets}
        problems = [f"rule {r.name!r} targets unknown queue {r.queue!r}" for r in self.rules
                    if r.queue not in {q.name for q in self.queues}]
        for consumer in self.queue_consumers:
            if consumer.queue not in queues:
                problems.append(f"consumer {consumer.name!r} reads queue {consumer.queue!r}, which is not deployed")
        for consumer in self.stream_consumers:
            if consumer.table not in tables:
                problems.append(f"stream consumer {consumer.name!r} reads unknown table {consumer.table!r}")
        for function in self.functions:
            problems += [f"{function.name!r} uses unknown table {t!r}" for t in function.tables or () if t not in tables]
            problems += [f"{function.name!r} uses unknown secret {s!r}" for s in function.secrets if s not in secrets]
        for schedule in self.schedules:
            problems += [f"{schedule.name!r} writes secret {s!r} without reading it" for s in schedule.writes_secrets
                         if s not in schedule.secrets]
        problems += [f"the API uses unknown secret {s!r}" for s in self.api_secrets if s not in secrets]
        if problems:
            raise ValueError("chalicelib/runtime/resources.py: " + "; ".join(problems))
