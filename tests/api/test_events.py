"""Every state change reaches the bus at least once, even across publisher crashes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from handlers import publisher
from motcua import metering
from tests.api.test_intake import officer_for, seed_procedure, submission, submit

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def tap_events(session: Any) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().name(resources.TAP_QUEUE.name))["QueueUrl"]
    events = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return events
        events += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(messages)])


def run_flow(api, n: int = 1) -> list[str]:
    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-events")
    codes = [submit(api, submission(procedure["procedure_code"]), citizen, key=f"events-{i:06d}").json["dossier_code"]
             for i in range(n)]
    api.call("POST", f"/dossiers/{codes[0]}/accept", token=officer_for(api, procedure))
    return codes


def test_state_changes_reach_the_bus_with_id_code_and_version(api, aws_env, dispatcher):
    code = run_flow(api)[0]
    dispatcher.drain()
    received = tap_events(aws_env)
    details = [event["detail"] for event in received]
    assert [(d["type"], d["version"], d["dossier_code"]) for d in details] == [
        ("DossierSubmitted", 1, code), ("DossierAccepted", 2, code)]
    assert len({d["id"] for d in details}) == 2
    assert all(event["source"] == "motcua.dossiers" for event in received)
    assert [event["detail-type"] for event in received] == ["DossierSubmitted", "DossierAccepted"]


def test_every_published_event_matches_its_versioned_schema(api, aws_env, dispatcher):
    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-schema")
    first = submit(api, submission(procedure["procedure_code"]), citizen, key="schema-0001").json["dossier_code"]
    second = submit(api, submission(procedure["procedure_code"]), citizen, key="schema-0002").json["dossier_code"]
    officer = officer_for(api, procedure)
    api.call("POST", f"/dossiers/{first}/accept", token=officer)
    api.call("POST", f"/dossiers/{second}/refuse", token=officer, body={"reason": "Sai thẩm quyền"})
    dispatcher.drain()
    details = [event["detail"] for event in tap_events(aws_env)]
    assert {d["type"] for d in details} == {"DossierSubmitted", "DossierAccepted", "DossierRefused"}
    for detail in details:
        schema = json.loads((SCHEMAS / f"{detail['type']}.v1.json").read_text())
        jsonschema.validate(detail, schema, format_checker=jsonschema.FormatChecker())


def test_events_carry_no_personal_data(api, aws_env, dispatcher):
    run_flow(api)
    dispatcher.drain()
    text = json.dumps(tap_events(aws_env), ensure_ascii=False)
    for secret in ("Nguyễn Văn An", "051095001234", "0912345678", "an@example.com"):
        assert secret not in text


def test_publisher_crash_after_the_write_loses_nothing(api, aws_env, dispatcher, monkeypatch):
    """The API committed dossier + outbox; the publisher dies on its first two deliveries.
    The stream re-delivers the batch and every event reaches the bus."""
    codes = run_flow(api, n=3)
    real_publish = publisher.publish
    crashes = {"left": 2}

    def crashing_publish(events, **kwargs):
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("Lambda killed mid-publish")
        return real_publish(events, **kwargs)

    monkeypatch.setattr(publisher, "publish", crashing_publish)
    dispatcher.drain()
    assert crashes["left"] == 0
    details = [event["detail"] for event in tap_events(aws_env)]
    published = {(d["dossier_code"], d["version"]) for d in details}
    assert published == {(codes[0], 1), (codes[0], 2), (codes[1], 1), (codes[2], 1)}


def test_bus_outage_is_reported_as_batch_failure_and_redelivered(api, aws_env, dispatcher, monkeypatch):
    run_flow(api, n=2)
    client = aws.client("events")
    real_put = client.put_events
    outage = {"calls": 0}

    def put_events(**kwargs):
        outage["calls"] += 1
        if outage["calls"] <= publisher.ATTEMPTS:  # every retry of the first invocation fails
            raise client.exceptions.InternalException({"Error": {"Code": "InternalException", "Message": "down"}}, "PutEvents")
        return real_put(**kwargs)

    monkeypatch.setattr(client, "put_events", put_events)
    monkeypatch.setattr(publisher.time, "sleep", lambda _s: None)
    dispatcher.drain()
    assert dispatcher.pumps[0].failures == 1
    assert len(tap_events(aws_env)) == 3


def test_entries_eventbridge_rejects_are_resent(aws_env, monkeypatch):
    client = aws.client("events")
    real_put = client.put_events
    calls: list[int] = []

    def flaky_put(**kwargs):
        entries = kwargs["Entries"]
        calls.append(len(entries))
        if len(calls) == 1:  # EventBridge accepts all but the second entry
            sent = real_put(Entries=[e for i, e in enumerate(entries) if i != 1])["Entries"]
            sent.insert(1, {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            return {"FailedEntryCount": 1, "Entries": sent}
        return real_put(**kwargs)

    monkeypatch.setattr(client, "put_events", flaky_put)
    events = [(str(i), _event(i)) for i in range(3)]
    assert publisher.publish(events, sleep=lambda _s: None) == []
    assert calls == [3, 1]
    assert sorted(e["detail"]["version"] for e in tap_events(aws_env)) == [1, 2, 3]


def test_publisher_sends_at_most_ten_entries_per_call(aws_env):
    events = [(str(i), _event(i)) for i in range(25)]
    with metering.aws_calls() as calls:
        assert publisher.publish(events) == []
    assert calls["events.PutEvents"] == 3
    assert len(tap_events(aws_env)) == 25


def _event(i: int) -> dict[str, Any]:
    from chalicelib.kernel.events import new_event
    return new_event("DossierSubmitted", dossier_code=f"000.00.13.H50-261121-{i:04d}", version=i + 1,
                     occurred_at="2026-11-21T10:00:00+07:00", agency_id="000.00.13.H50",
                     procedure_code="1.001023", status="submitted", data={})


def test_stream_filter_passes_only_outbox_inserts(api, aws_env, dispatcher):
    """Idempotency records and sequence counters are on the same table but never published."""
    run_flow(api)
    delivered: list[dict[str, Any]] = []
    pump = dispatcher.pumps[0]
    pump.handler = lambda event, context: delivered.extend(event["Records"]) or {"batchItemFailures": []}
    dispatcher.drain()
    assert delivered and all(r["dynamodb"]["Keys"]["sk"]["S"].startswith("EVENT#") for r in delivered)
    assert all(r["eventName"] == "INSERT" for r in delivered)


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.glob("*.json")))
def test_event_schemas_are_valid_json_schema(name):
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"].endswith("v1")


def test_a_cancelled_transaction_publishes_nothing_and_later_changes_still_do(api, aws_env, dispatcher):
    """An idempotent replay is a cancelled transaction: the stream must show nothing of it
    (moto restores a copy of the table; motcua.moto_atomic keeps the stream readers' shard)."""
    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-cancelled")
    first = submit(api, submission(procedure["procedure_code"]), citizen, key="cancel-0001").json["dossier_code"]
    dispatcher.drain()
    replay = submit(api, submission(procedure["procedure_code"]), citizen, key="cancel-0001")
    assert replay.headers["Idempotent-Replayed"] == "true"
    second = submit(api, submission(procedure["procedure_code"]), citizen, key="cancel-0002").json["dossier_code"]
    dispatcher.drain()
    published = [e["detail"]["id"] for e in tap_events(aws_env)]
    assert published == [store.dossier_events(code)[0]["id"] for code in (first, second)]
