"""The one list of AWS resources MotCua needs, as plain data.

The local stack (``motcua.provision``) creates exactly these in moto, and infra/ builds the
CDK stacks from the same objects, so the two cannot drift apart. Names here are logical;
``Settings.name()`` turns them into ``motcua-{stage}-{name}``.

Every Lambda imports this module on its cold start, so the declarations are ``NamedTuple``s:
immutable like frozen dataclasses, at a quarter of the class-creation cost: a frozen dataclass
generates and compiles six methods, about 1.2 ms of CPU per class against 0.3 ms, and the
cold-start rows of ``make bench`` have no 10 ms to spare.
"""
from __future__ import annotations

from typing import NamedTuple

from chalicelib.runtime.names import physical_name, secret_name  # noqa: F401 (re-exported: callers name resources here)


class Index(NamedTuple):
    name: str
    pk: str
    sk: str | None = None


class Table(NamedTuple):
    name: str
    pk: str
    sk: str | None = None
    indexes: tuple[Index, ...] = ()
    stream: str | None = None          # StreamViewType, when something consumes the stream
    ttl_attribute: str | None = None
    # Append-only (the audit log): functions get PutItem on it and nothing else that writes;
    # only the functions named in ``queried_by`` ("api" for the API) may Query it.
    append_only: bool = False
    queried_by: tuple[str, ...] = ()

    def key_attributes(self) -> list[str]:
        names = [self.pk] + ([self.sk] if self.sk else [])
        for index in self.indexes:
            names += [index.pk] + ([index.sk] if index.sk else [])
        return list(dict.fromkeys(names))


class Queue(NamedTuple):
    name: str
    visibility_timeout: int = 60
    max_receive_count: int = 5       # deliveries before a message moves to the DLQ
    has_dlq: bool = True
    local_only: bool = False         # only the local stack has it (AWS keeps the bus archive instead)
    # (first, longest) retry delay in seconds. The consumer then hides each failed message for
    # first * 2^(attempt-1) seconds, capped at longest, instead of the fixed visibility timeout.
    retry_backoff: tuple[int, int] | None = None

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq"


class Rule(NamedTuple):
    name: str
    pattern: dict
    queue: str


class Objects(NamedTuple):
    """Access to the attachments bucket's objects under one key prefix (infra/ grants
    s3:GetObject to read, which HEAD and presigned GETs need, s3:PutObject to write and
    s3:DeleteObject to delete, which only the retention purge does)."""
    prefix: str
    read: bool = False
    write: bool = False
    delete: bool = False


# What a Lambda of ours may touch in AWS (infra/ turns these into its IAM policy) and how it
# runs. ``tables=None`` means read/write on every table; list names to narrow it. ``bundle``
# names the deployment package it runs from when it is not the shared one (infra/package.py).
class StreamConsumer(NamedTuple):
    """A Lambda fed by a table's stream (the outbox publisher)."""
    name: str
    table: str
    handler: str                       # "module:function"
    filter_pattern: dict | None = None   # Lambda event filter on the stream records
    batch_size: int = 100
    timeout: int = 60                  # seconds
    memory: int | None = None          # MB; None = the stage's consumer_memory_mb
    tables: tuple[str, ...] | None = None
    secrets: tuple[str, ...] = ()
    publishes: bool = False            # may put events on the bus
    objects: tuple[Objects, ...] = ()
    bundle: str | None = None
    retry_attempts: int = 20           # then the batch's position goes to the failures queue

    @property
    def failures_queue(self) -> str:
        return f"{self.name}-failures"


class QueueConsumer(NamedTuple):
    """A Lambda fed by an SQS queue, with partial batch failures."""
    name: str
    queue: str
    handler: str
    batch_size: int = 10
    timeout: int = 30
    memory: int | None = None
    tables: tuple[str, ...] | None = None
    secrets: tuple[str, ...] = ()
    publishes: bool = False
    objects: tuple[Objects, ...] = ()
    bundle: str | None = None


class Schedule(NamedTuple):
    """A Lambda run periodically (EventBridge schedule on the default bus)."""
    name: str
    handler: str
    expression: str                    # "rate(5 minutes)" or "cron(0 1 * * ? *)"
    timeout: int = 60
    memory: int | None = None
    tables: tuple[str, ...] | None = None
    secrets: tuple[str, ...] = ()
    publishes: bool = False
    objects: tuple[Objects, ...] = ()
    bundle: str | None = None
    writes_secrets: tuple[str, ...] = ()   # of its ``secrets``, those it writes back
    single: bool = False                   # at most one run at a time (reserved concurrency 1)

    @property
    def rate_minutes(self) -> int:
        """Minutes between runs of a ``rate(N minutes)`` schedule (the local dispatcher's pace)."""
        number, unit = self.expression.removeprefix("rate(").removesuffix(")").split()
        return int(number) * {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}[unit]


class Invoked(NamedTuple):
    """A Lambda the API invokes and waits for (no event source): work the API package cannot
    carry, such as drawing a PDF with a library too big for it."""
    name: str
    handler: str
    setting: str                       # the API's environment variable holding its name
    timeout: int = 20
    memory: int | None = None
    tables: tuple[str, ...] | None = ()
    secrets: tuple[str, ...] = ()
    publishes: bool = False
    objects: tuple[Objects, ...] = ()
    bundle: str | None = None


class Secret(NamedTuple):
    """A JSON secret in Secrets Manager, named ``motcua/{stage}/{name}`` (chalicelib.runtime.credentials)."""
    name: str
    description: str
    keys: tuple[str, ...]
    generated: bool = False   # a key of our own: infra/ generates its value once (random, 64 chars)


class CustomMetric(NamedTuple):
    """A metric our code emits with Powertools (namespace METRICS_NAMESPACE, dimension
    ``service``) and infra/ alarms on. Emit with ``Metrics(namespace=METRICS_NAMESPACE,
    service=metric.service).add_metric(metric.name, metric.unit, value)``."""
    name: str
    service: str
    unit: str
    description: str


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
        # Sparse: closed dossiers whose files are not purged yet, keyed by agency and sorted
        # by when they closed: the retention purge reads only what it may purge (issue 6).
        Index("closed_by_agency", "gsi_closed", "gsi_closed_at"),
        # Sparse: dossiers taken at a desk (walk-in or by post), keyed by the receiving desk's
        # agency, newest first: the desk's own list, GET /dossiers?received=here (Decree 118/2025).
        Index("received_by_desk", "gsi_desk", "list_sk"),
    ),
    stream="NEW_IMAGE",
    ttl_attribute="ttl",
)
CATALOGUE = Table(name="catalogue", pk="pk", sk="sk")
IDEMPOTENCY = Table(name="idempotency", pk="id", ttl_attribute="expiration")
# Report counters (per agency shard, period and procedure) and per-dossier projection records.
REPORTS = Table(name="reports", pk="pk", sk="sk")

TABLES: tuple[Table, ...] = (DOSSIERS, CATALOGUE, IDEMPOTENCY, REPORTS)

EVENT_BUS = "events"
ATTACHMENTS_BUCKET = "attachments"
BUCKETS: tuple[str, ...] = (ATTACHMENTS_BUCKET,)
UPLOADS_PREFIX = "uploads/"       # citizens' and officers' files (chalicelib/dossiers/store/attachments.py)
RECEIPTS_PREFIX = "receipts/"     # receipt PDFs (chalicelib/payments/store/receipts.py)

# The tap receives every MotCua event; `motcua events` reads it. It has no consumer Lambda.
TAP_QUEUE = Queue(name="tap", visibility_timeout=30, has_dlq=False, local_only=True)
REPORT_QUEUE = Queue(name="report-projection", visibility_timeout=60, max_receive_count=10)
INDEX_QUEUE = Queue(name="index-projection", visibility_timeout=60, max_receive_count=10)
# Sync to the national portal: retried with backoff for about a day (30 s doubling to 1 h,
# 30 deliveries) before the DLQ, because peers lost notifications in a 5-minute outage.
NATIONAL_SYNC_QUEUE = Queue(name="national-sync", visibility_timeout=300, max_receive_count=30,
                            retry_backoff=(30, 3600))
NOTIFICATIONS_QUEUE = Queue(name="notifications", visibility_timeout=120, max_receive_count=12,
                            retry_backoff=(30, 1800))



def _connector_resources() -> tuple[tuple[Queue, ...], tuple[Rule, ...], tuple[QueueConsumer, ...]]:
    """A queue, a rule and a consumer per connected ministry system (chalicelib/sync/rules/connectors.py):
    the rule forwards the system's chosen events for its procedures only."""
    from chalicelib.sync.rules.connectors import systems
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
QUEUES: tuple[Queue, ...] = (TAP_QUEUE, REPORT_QUEUE, INDEX_QUEUE, NATIONAL_SYNC_QUEUE, NOTIFICATIONS_QUEUE, *CONNECTOR_QUEUES)

DOSSIER_EVENTS = {"source": ["motcua.dossiers"]}
RULES: tuple[Rule, ...] = (
    Rule(name="tap-all", pattern={"source": [{"prefix": EVENT_SOURCE_PREFIX}]}, queue=TAP_QUEUE.name),
    # Any event about a dossier re-projects that dossier's current state into the counters.
    Rule(name="report-projection", pattern={"source": [{"prefix": EVENT_SOURCE_PREFIX}],
                                            "detail": {"dossier_code": [{"exists": True}]}},
         queue=REPORT_QUEUE.name),
    # The same events keep the 766 index counters (feedback about a dossier included).
    Rule(name="index-projection", pattern={"source": [{"prefix": EVENT_SOURCE_PREFIX}],
                                           "detail": {"dossier_code": [{"exists": True}]}},
         queue=INDEX_QUEUE.name),
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
    tables=(),
    publishes=True,
)
STREAM_CONSUMERS: tuple[StreamConsumer, ...] = (PUBLISHER,)
QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(name="report-projection", queue=REPORT_QUEUE.name, handler="handlers.report_projection:handler",
                  tables=("dossiers", "reports", "idempotency")),
    QueueConsumer(name="index-projection", queue=INDEX_QUEUE.name, handler="handlers.index_projection:handler",
                  tables=("dossiers", "reports", "idempotency")),
    QueueConsumer(name="national-sync", queue=NATIONAL_SYNC_QUEUE.name, handler="handlers.national_sync:handler",
                  secrets=("national-portal",)),
    QueueConsumer(name="notifications", queue=NOTIFICATIONS_QUEUE.name, handler="handlers.notifications:handler",
                  secrets=("zalo",)),
    *CONNECTOR_CONSUMERS,
)


# --- payments (issue 3) ------------------------------------------------------------------
# Appended as a block so that branches adding other resources merge without conflicts.

PAYMENTS = Table(
    name="payments",
    pk="pk",
    sk="sk",
    indexes=(
        # Sparse: only pending payments carry gsi_pending, so the reconciliation sweep reads
        # the pending ones and nothing else, however many settled payments there are.
        Index("pending", "gsi_pending", "gsi_pending_sk"),
        # The ledger of one local (Asia/Ho_Chi_Minh) day, for the daily finance report.
        Index("by_day", "gsi_day", "gsi_day_sk"),
        # Sparse: dossiers holding money they must give back (refused, overpaid).
        Index("refund_due", "gsi_refund_due", "gsi_refund_due_sk"),
    ),
)
TABLES += (PAYMENTS,)

REFUND_WATCH_QUEUE = Queue(name="refund-watch")
QUEUES += (REFUND_WATCH_QUEUE,)
RULES += (
    Rule(name="refund-watch", queue=REFUND_WATCH_QUEUE.name,
         pattern={"source": ["motcua.dossiers"],
                  "detail-type": ["DossierRefused", "DossierWithdrawn", "DossierStopped"]}),
)
QUEUE_CONSUMERS += (
    QueueConsumer(name="refund-watch", queue=REFUND_WATCH_QUEUE.name, handler="handlers.refund_watch:handler",
                  tables=("dossiers", "payments", "idempotency")),
)

RECONCILE_SCHEDULE = Schedule(name="payments-reconcile", handler="handlers.reconcile:handler",
                              expression="rate(15 minutes)", timeout=300,
                              tables=("dossiers", "payments", "audit"),  # payment transitions are audited
                              secrets=("vnpay", "paygov"))
SCHEDULES: tuple[Schedule, ...] = (RECONCILE_SCHEDULE,)

# Receipt PDFs are drawn off the request path, by a consumer with its own package (fpdf2,
# fontTools and Pillow are too big for the API's), and stored for the API to hand out.
RECEIPTS_BUNDLE = "receipts"
RECEIPTS_QUEUE = Queue(name="receipts")
QUEUES += (RECEIPTS_QUEUE,)
RULES += (
    Rule(name="receipts", queue=RECEIPTS_QUEUE.name,
         pattern={"source": ["motcua.dossiers"], "detail-type": ["PaymentSucceeded"]}),
)
QUEUE_CONSUMERS += (
    QueueConsumer(name="receipts", queue=RECEIPTS_QUEUE.name, handler="handlers.receipts:handler",
                  tables=("payments", "catalogue", "idempotency"), bundle=RECEIPTS_BUNDLE,
                  objects=(Objects(RECEIPTS_PREFIX, write=True),)),
)
# The Circular 03/2025 papers (docs/forms.md): the API sends a paper's values to this function,
# which draws it with the receipts bundle's fpdf2 and answers the PDF; it touches no data.
# 1024 MB for the CPU that comes with it (fpdf2's line breaking is CPU-bound); 25 s stays inside
# the API's 29 s.
PAPERS_RENDERER = Invoked(name="papers", handler="handlers.papers:handler", setting="MOTCUA_PAPERS_FUNCTION",
                          timeout=25, memory=1024, bundle=RECEIPTS_BUNDLE)
INVOKED: tuple[Invoked, ...] = (PAPERS_RENDERER,)
# Retention (issue 6): once a day, delete the files of dossiers closed more than
# MOTCUA_ATTACHMENT_RETENTION_YEARS ago (chalicelib/trust/use_cases/privacy.purge).
RETENTION_SCHEDULE = Schedule(name="attachments-retention", handler="handlers.retention:handler",
                              expression="rate(1 day)", timeout=900, tables=("dossiers", "catalogue"),
                              objects=(Objects(UPLOADS_PREFIX, delete=True),))
SCHEDULES += (RETENTION_SCHEDULE,)

# Zalo OA access tokens live 25 hours and each renewal spends the refresh token, so one
# function, one run at a time, renews it in the secret (chalicelib/sync/adapters/zalo_token.py).
ZALO_TOKEN_SCHEDULE = Schedule(name="zalo-token", handler="handlers.zalo_token:handler", expression="rate(1 hour)",
                               tables=(), secrets=("zalo",), writes_secrets=("zalo",), single=True)
SCHEDULES += (ZALO_TOKEN_SCHEDULE,)


# --- audit log (issue 6) ------------------------------------------------------------------
# Records filed by dossier (or by the person a read was about): pk DOSSIER#{code} |
# SUBJECT#{digest}, sk "{time}#{record id}"; the by_actor index lists one actor's records in
# time order. Items expire ``audit_retention_days`` after they were written (stage setting).
AUDIT = Table(
    name="audit",
    pk="pk",
    sk="sk",
    indexes=(Index("by_actor", "actor_sub", "sk"),),
    ttl_attribute="expires_at",
    append_only=True,
    queried_by=("api",),
)
TABLES += (AUDIT,)


VNPAY_SECRET = Secret("vnpay", "VNPay merchant credentials", ("tmn_code", "hash_secret"))
NATIONAL_PORTAL_SECRET = Secret("national-portal", "National public service portal (DVCQG) account",
                                ("username", "password"))
PAYGOV_SECRET = Secret("paygov", "PayGov (national payment platform) partner credentials",
                       ("partner_code", "secret_key", "access_token"))
ZALO_SECRET = Secret("zalo", "Zalo Official Account API", ("app_id", "secret_key", "refresh_token"))
# No JWT signing key: in AWS, Cognito (or an external OIDC issuer) issues the tokens and API
# Gateway's authorizer verifies them; the app's own HS256 check exists in the local stage only.
# The HMAC key of the id-number lookups (APPLICANT#, LEGACY#, audit subjects). infra/ generates
# it once; it is never rotated, since every lookup key already written was made with it.
ID_HASH_SECRET = Secret("id-hash", "HMAC key of the id-number lookups (generated once; never rotate)", ("key",),
                        generated=True)
SECRETS: tuple[Secret, ...] = (VNPAY_SECRET, PAYGOV_SECRET, NATIONAL_PORTAL_SECRET, ZALO_SECRET, ID_HASH_SECRET)
API_SECRETS: tuple[str, ...] = (VNPAY_SECRET.name, PAYGOV_SECRET.name, ID_HASH_SECRET.name)   # what the API Lambda may read
# The API signs upload URLs and checks uploads; it hands out receipts but never writes them.
API_OBJECTS: tuple[Objects, ...] = (Objects(UPLOADS_PREFIX, read=True, write=True), Objects(RECEIPTS_PREFIX, read=True))

METRICS_NAMESPACE = "MotCua"
PAYMENTS_PENDING_OVER_30_MIN = CustomMetric(
    "PaymentsPendingOver30Min", service="payment-sweep", unit="Count",
    description="Payments still pending 30 minutes after they were created (alarm when > 0)")
NATIONAL_SYNC_LAG = CustomMetric(
    "NationalSyncLagSeconds", service="national-sync", unit="Seconds",
    description="Age of the oldest dossier change not yet accepted by the national portal")
NATIONAL_SYNC_CONFIGURATION_ERRORS = CustomMetric(
    "NationalSyncConfigurationErrors", service="national-sync", unit="Count",
    description="Deliveries the national portal refused for our account, dstcode or LGSP client (alarm when > 0)")
NATIONAL_SYNC_REJECTIONS = CustomMetric(
    "NationalSyncRejections", service="national-sync", unit="Count",
    description="Dossier records the national portal refused for their data; not retried (alarm when > 0)")
ZALO_ACCOUNT_ERRORS = CustomMetric(
    "ZaloAccountErrors", service="notifications", unit="Count",
    description="Zalo messages ZNS refused for our OA, app, balance or daily limit; each went by SMS (alarm when > 0)")
ALARMED_METRICS: tuple[CustomMetric, ...] = (PAYMENTS_PENDING_OVER_30_MIN, NATIONAL_SYNC_LAG,
                                             NATIONAL_SYNC_CONFIGURATION_ERRORS, NATIONAL_SYNC_REJECTIONS,
                                             ZALO_ACCOUNT_ERRORS)


def visibility_timeout(queue: Queue, consumers: tuple[QueueConsumer, ...] | None = None) -> int:
    """At least six times the longest consumer timeout, as AWS advises for SQS-fed Lambdas."""
    feeding = [c for c in (QUEUE_CONSUMERS if consumers is None else consumers) if c.queue == queue.name]
    return max([queue.visibility_timeout] + [6 * c.timeout for c in feeding])


def queue_named(name: str) -> Queue | None:
    return next((queue for queue in QUEUES if queue.name == name), None)
