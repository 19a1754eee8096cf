"""The one list of AWS resources MotCua needs, as plain data.

The local stack (``motcua.provision``) creates exactly these in moto, and infra/ builds the
CDK stacks from the same objects, so the two cannot drift apart. Names here are logical;
``Settings.name()`` turns them into ``motcua-{stage}-{name}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    pk: str
    sk: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    pk: str
    sk: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: str | None = None          # StreamViewType, when something consumes the stream
    ttl_attribute: str | None = None

    def key_attributes(self) -> list[str]:
        names = [self.pk] + ([self.sk] if self.sk else [])
        for index in self.indexes:
            names += [index.pk] + ([index.sk] if index.sk else [])
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Queue:
    name: str
    visibility_timeout: int = 60
    max_receive_count: int = 5       # deliveries before a message moves to the DLQ
    has_dlq: bool = True
    # (first, longest) retry delay in seconds. The consumer then hides each failed message for
    # first * 2^(attempt-1) seconds, capped at longest, instead of the fixed visibility timeout.
    retry_backoff: tuple[int, int] | None = None

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: dict
    queue: str


@dataclass(frozen=True)
class StreamConsumer:
    """A Lambda fed by a table's stream (the outbox publisher)."""
    name: str
    table: str
    handler: str                       # "module:function"
    filter_pattern: dict = field(default_factory=dict)
    batch_size: int = 100


@dataclass(frozen=True)
class QueueConsumer:
    """A Lambda fed by an SQS queue, with partial batch failures."""
    name: str
    queue: str
    handler: str
    batch_size: int = 10


EVENT_SOURCE_PREFIX = "motcua"

DOSSIERS = Table(
    name="dossiers",
    pk="pk",
    sk="sk",
    indexes=(
        Index("by_agency", "gsi_agency", "list_sk"),
        Index("by_agency_status", "gsi_agency_status", "list_sk"),
        Index("by_owner", "gsi_owner", "list_sk"),
        Index("by_owner_status", "gsi_owner_status", "list_sk"),
        # Sparse: only dossiers whose clock runs, keyed by the agency holding them and sorted
        # by the earliest of the step and overall due dates (GET /dossiers?due=soon|overdue).
        Index("open_by_agency_due", "gsi_open", "gsi_due"),
    ),
    stream="NEW_IMAGE",
    ttl_attribute="ttl",
)
CATALOGUE = Table(name="catalogue", pk="pk", sk="sk")
IDEMPOTENCY = Table(name="idempotency", pk="id", ttl_attribute="expiration")

TABLES: tuple[Table, ...] = (DOSSIERS, CATALOGUE, IDEMPOTENCY)

EVENT_BUS = "events"
ATTACHMENTS_BUCKET = "attachments"
BUCKETS: tuple[str, ...] = (ATTACHMENTS_BUCKET,)

# The tap receives every MotCua event; `motcua events` reads it. It has no consumer Lambda.
TAP_QUEUE = Queue(name="tap", visibility_timeout=30, has_dlq=False)
# Sync to the national portal: retried with backoff for about a day (30 s doubling to 1 h,
# 30 deliveries) before the DLQ, because peers lost notifications in a 5-minute outage.
NATIONAL_SYNC_QUEUE = Queue(name="national-sync", visibility_timeout=300, max_receive_count=30,
                            retry_backoff=(30, 3600))
NOTIFICATIONS_QUEUE = Queue(name="notifications", visibility_timeout=120, max_receive_count=12,
                            retry_backoff=(30, 1800))



def _connector_resources() -> tuple[tuple[Queue, ...], tuple["Rule", ...], tuple["QueueConsumer", ...]]:
    """A queue, a rule and a consumer per connected ministry system (chalicelib/connectors.py):
    the rule forwards the system's chosen events for its procedures only."""
    from chalicelib.connectors import systems
    queues, rules, consumers = [], [], []
    for system in systems().values():
        name = f"connector-{system.system}"
        queues.append(Queue(name=name, visibility_timeout=120, max_receive_count=12, retry_backoff=(60, 3600)))
        rules.append(Rule(name=name, queue=name, pattern={
            "source": ["motcua.dossiers"], "detail-type": list(system.events),
            "detail": {"procedure_code": list(system.procedures)}}))
        consumers.append(QueueConsumer(name=name, queue=name, handler="handlers.connectors:handler"))
    return tuple(queues), tuple(rules), tuple(consumers)


CONNECTOR_QUEUES, CONNECTOR_RULES, CONNECTOR_CONSUMERS = _connector_resources()
QUEUES: tuple[Queue, ...] = (TAP_QUEUE, NATIONAL_SYNC_QUEUE, NOTIFICATIONS_QUEUE, *CONNECTOR_QUEUES)

DOSSIER_EVENTS = {"source": ["motcua.dossiers"]}
RULES: tuple[Rule, ...] = (
    Rule(name="tap-all", pattern={"source": [{"prefix": EVENT_SOURCE_PREFIX}]}, queue=TAP_QUEUE.name),
    # every version, so the consumer can deliver them in order
    Rule(name="national-sync", pattern=DOSSIER_EVENTS, queue=NATIONAL_SYNC_QUEUE.name),
    Rule(name="notifications", pattern=DOSSIER_EVENTS, queue=NOTIFICATIONS_QUEUE.name),
    *CONNECTOR_RULES,
)

OUTBOX_PREFIX = "EVENT#"
PUBLISHER = StreamConsumer(
    name="outbox-publisher",
    table=DOSSIERS.name,
    handler="handlers.publisher:handler",
    filter_pattern={"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": OUTBOX_PREFIX}]}}}},
)
STREAM_CONSUMERS: tuple[StreamConsumer, ...] = (PUBLISHER,)
QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(name="national-sync", queue=NATIONAL_SYNC_QUEUE.name, handler="handlers.national_sync:handler"),
    QueueConsumer(name="notifications", queue=NOTIFICATIONS_QUEUE.name, handler="handlers.notifications:handler"),
    *CONNECTOR_CONSUMERS,
)


def queue_named(name: str) -> Queue | None:
    return next((queue for queue in QUEUES if queue.name == name), None)
