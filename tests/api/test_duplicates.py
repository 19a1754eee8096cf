"""Duplicates and reordering: every queue consumer in chalicelib/runtime/resources.QUEUE_CONSUMERS
gets the event stream of a real workflow (captured from the outbox's table stream) with
each event delivered 1–3 times in a seeded random order, failed deliveries retried later as
SQS would; the consumers' final state must equal that of a clean run delivering each event
once, in order. The two runs happen in two fresh in-process AWS worlds built by the same
workflow, so they start from the same state."""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.events.models import EventPattern
from moto.sns.models import sns_backends

from chalicelib.runtime import aws
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.payments.store import payments as payment_store
from chalicelib.runtime import resources
from chalicelib.sync.store import sync_ledger as sync_store
from chalicelib.runtime.settings import settings
from handlers import publisher
from motcua.dispatcher import LambdaContext, StreamPump, load_handler
from tests.api.conftest import Api, put_upload
from tests.api.payment_kit import PAID_PROCEDURE, Flow, vnpay  # noqa: F401  (fixture)
from tests.api.reliability_kit import scale, seed
from tests.api.test_events import tap_events
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import ALL_CRITERIA, DEPARTMENT, HOUSE, act, officer

ROUNDS = scale("MOTCUA_DUPLICATE_ROUNDS", 1)     # seeds per test run (make soak: more)
MAX_DELIVERIES = 400                               # bound on redelivery loops


# --- the workflow that produces the stream -------------------------------------------------

def workflow(api: Api, session: Any, vnpay: Any) -> list[str]:
    """A house permit through its whole life (three notification channels): accepted, handed
    over to another agency's step, a supplement requested and supplied, handed back, result
    issued, returned to the citizen, rated; a paid then refused judicial record (connector
    procedure, payment events, refund watch) and a withdrawn dossier."""
    citizen = api.token("citizen", sub="citizen-dup")
    commune, department = officer(api), officer(api, DEPARTMENT, "officer-sxd")

    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201), response.json
        return response.json

    house = ok(submit(api, submission(HOUSE, notify=["sms", "zalo", "email"]), citizen, key="dup-house"))["dossier_code"]
    ok(api.call("POST", f"/dossiers/{house}/accept", token=commune))
    ok(api.call("POST", f"/dossiers/{house}/forward", token=commune, body={"to_step": 2}))
    ok(act(api, house, department, "request_supplement", reason="Thiếu bản vẽ", documents=["Bản vẽ"]))
    ok(api.call("POST", f"/dossiers/{house}/supplements", token=citizen,
                body={"attachments": [{"upload_id": put_upload(session, "citizen-dup"), "name": "Bản vẽ.pdf"}]}))
    ok(api.call("POST", f"/dossiers/{house}/forward", token=department, body={"to_step": 3}))
    ok(act(api, house, commune, "issue_result", decision="approved",
           documents=[{"upload_id": put_upload(session, "officer-commune"), "name": "Giấy phép xây dựng.pdf"}]))
    ok(act(api, house, commune, "return_result", method="online"))
    ok(api.call("POST", f"/dossiers/{house}/rating", token=citizen, body={"criteria": ALL_CRITERIA, "overall": 4}))
    flow = Flow(api, vnpay)
    flow.citizen = citizen
    paid, _ = flow.paid_dossier(PAID_PROCEDURE)                       # fees held, then refused: to refund
    ok(api.call("POST", f"/dossiers/{paid}/refuse", token=flow.officer(paid), body={"reason": "Sai thẩm quyền"}))
    withdrawn = ok(submit(api, submission(HOUSE), citizen, key="dup-withdraw"))["dossier_code"]
    ok(act(api, withdrawn, citizen, "withdraw", reason="Không còn nhu cầu"))
    return [house, paid, withdrawn]


def outbox_stream(session: Any) -> list[dict[str, Any]]:
    """Every outbox event in commit order, as the publisher sees it on the table stream."""
    pump = StreamPump(resources.PUBLISHER, settings(), session)
    return [event for _, event in publisher.outbox_events(pump._fetch())]


# --- delivering it -------------------------------------------------------------------------

def sqs_record(event: dict[str, Any], message_id: str, queue: str) -> dict[str, Any]:
    body = {"id": f"eb-{message_id}", "source": "motcua.dossiers", "detail-type": event["type"], "detail": event}
    return {"messageId": message_id, "receiptHandle": message_id, "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
            "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:local:000000000000:{settings().name(queue)}",
            "awsRegion": "local"}


def routed(consumer: resources.QueueConsumer, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events the consumer's EventBridge rule sends to its queue."""
    patterns = [EventPattern(None, rule.pattern) for rule in resources.RULES if rule.queue == consumer.queue]
    return [e for e in events if any(p.matches_event({"source": "motcua.dossiers", "detail-type": e["type"],
                                                      "detail": e}) for p in patterns)]


def deliver(consumer: resources.QueueConsumer, events: list[dict[str, Any]], rng: random.Random | None) -> int:
    """Clean (rng None): each event once, in order, one batch of up to 10 at a time. Chaos:
    1–3 copies of each, shuffled, random batch sizes; failed records go back at a random
    place, as SQS redelivers them after their visibility timeout. Returns deliveries made."""
    handler = load_handler(consumer.handler)
    pending = [(e, n) for e in events for n in range(rng.randint(1, 3) if rng else 1)]
    if rng:
        rng.shuffle(pending)
    made = 0
    while pending:
        assert made < MAX_DELIVERIES, f"{consumer.name} never converged"
        size = rng.randint(1, 10) if rng else 10
        batch, pending = pending[:size], pending[size:]
        records = [sqs_record(e, f"m{made + i}", consumer.queue) for i, (e, _) in enumerate(batch)]
        made += len(batch)
        failed = {f["itemIdentifier"] for f in handler({"Records": records}, LambdaContext(consumer.name))["batchItemFailures"]}
        for record, item in zip(records, batch, strict=True):
            if record["messageId"] in failed:
                pending.insert(rng.randint(0, len(pending)) if rng else len(pending), item)
    return made


# --- what the consumers did ------------------------------------------------------------------

def consumer_state(codes: list[str], simulators: Any, session: Any) -> dict[str, Any]:
    """Everything the consumers leave behind, without ids and clock readings that differ
    between two runs of the same workflow."""
    reports = sorted(json.dumps(item, sort_keys=True) for item in
                     session.client("dynamodb").scan(TableName=settings().name("reports"), ConsistentRead=True)["Items"])
    national = simulators.national.state()
    lines = [json.loads(x) for x in Path(simulators.sink).read_text(encoding="utf-8").splitlines()]
    sms = sns_backends[DEFAULT_ACCOUNT_ID][settings().region].sms_messages.values()
    return {
        "report-projection": reports,
        "national-sync": {
            "calls": sorted((c["service"], c["MaHoSo"], c["result"]) for c in national["calls"]),
            # distinct records: a delivery retried after a lost answer sends its progress again,
            # identical, and the portal keeps one (docs/national-portal.md, at least once)
            "progress": {k: len({json.dumps(r, sort_keys=True) for r in v}) for k, v in national["progress"].items()},
            "ledgers": {code: (lambda ledger: (ledger.version, ledger.state))(sync_store.read(code)[1]) for code in codes},
        },
        "notifications": {
            "sent": sorted(Counter((r["dossier_code"], r["event_type"], r["channel"]) for r in lines).items()),
            "sms": len(list(sms)), "zalo": len(simulators.zalo.state()["messages"]),
        },
        "connectors": {"posts": simulators.judicial.state()["posts"],
                       "received": sorted((e["dossier_code"], e["type"], e["version"])
                                          for e in simulators.judicial.state()["received"])},
        "refund-watch": sorted((r["dossier_code"], r.get("amount")) for r in payment_store.refund_due_list()),
    }


@pytest.fixture
def world(simulators: Any, vnpay: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``run(rng)``: in a fresh in-process AWS, run the workflow, feed every consumer its
    stream (clean if rng is None), and return the consumers' state."""
    from chalice.test import Client
    from app import app
    from motcua.provision import fresh_local_stack

    runs = iter(range(100))

    def run(rng: random.Random | None) -> dict[str, Any]:
        simulators.sink = str(tmp_path / f"sink-{next(runs)}.jsonl")
        monkeypatch.setenv("MOTCUA_NOTIFICATIONS_SINK", simulators.sink)
        for simulator in (simulators.national, simulators.zalo, simulators.judicial):
            simulator.reset()
        simulators.reset_clients()
        with mock_aws():
            session = fresh_local_stack()
            try:
                with Client(app, stage_name="local") as client:
                    codes = workflow(Api(client), session, vnpay)
                events = outbox_stream(session)
                for consumer in resources.QUEUE_CONSUMERS:
                    deliver(consumer, routed(consumer, events), rng)
                state = consumer_state(codes, simulators, session)
                state["events"] = sorted((e["dossier_code"], e["version"], e["type"]) for e in events)
                return state
            finally:
                aws.reset()
                catalogue_store.invalidate()
    yield run


def test_every_consumer_ends_as_after_a_clean_ordered_run_whatever_the_duplicates_and_order(world):
    clean = world(None)
    assert clean["connectors"]["posts"] and clean["refund-watch"] and clean["notifications"]["sent"]
    assert all(state == "synced" for _, state in clean["national-sync"]["ledgers"].values())
    lifecycle = {"DossierSupplemented", "DossierResultIssued", "DossierResultReturned", "DossierRated"}
    assert lifecycle <= {kind for _, _, kind in clean["events"]}
    assert lifecycle & {kind for (_, kind, _), _ in clean["notifications"]["sent"]}
    for _ in range(ROUNDS):
        value = seed("duplicates")
        chaotic = world(random.Random(value))
        assert chaotic["events"] == clean["events"]
        for consumer in [c.name for c in resources.QUEUE_CONSUMERS]:
            key = consumer if consumer in chaotic else "connectors"
            assert chaotic[key] == clean[key], (consumer, value)


def test_the_publisher_puts_every_event_on_the_bus_whatever_the_stream_redelivers(api, aws_env, dispatcher):
    """The table stream redelivers batches (each record 1–3 times, batches out of order): the
    bus gets every outbox event, and each consumer sees every id at least once."""
    citizen = api.token("citizen", sub="citizen-dup")
    for i in range(6):
        code = submit(api, submission(HOUSE), citizen, key=f"dup-pub-{i:04d}").json["dossier_code"]
        api.call("POST", f"/dossiers/{code}/accept", token=officer(api))
    pump = dispatcher.pumps[0]
    records = [r for r in pump._fetch() if pump.pattern.matches_event(r)]
    value = seed("publisher duplicates")
    rng = random.Random(value)
    copies = [r for r in records for _ in range(rng.randint(1, 3))]
    rng.shuffle(copies)
    while copies:
        size = rng.randint(1, 10)
        batch, copies = copies[:size], copies[size:]
        assert publisher.handler({"Records": batch}, LambdaContext("outbox-publisher")) == {"batchItemFailures": []}
    published = Counter(e["detail"]["id"] for e in tap_events(aws_env))
    outbox = {event["id"] for _, event in publisher.outbox_events(records)}
    assert set(published) == outbox and len(outbox) == 12
