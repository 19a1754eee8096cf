"""Sync to the national portal: through the bus, the queue and the consumer, against the
loopback simulator speaking the portal's protocol over HTTP."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.store import sync_ledger as sync_store
from chalicelib.dossiers.rules.submission import new_dossier
from handlers import national_sync
from motcua import sync_ops
from motcua.dispatcher import LambdaContext
from tests.api.test_consumer import sqs_record
from tests.api.test_workflow import act, new_accepted, officer

CONTEXT = LambdaContext("national-sync")


def sync_of(api, code, token):
    return api.call("GET", f"/dossiers/{code}", token=token).json


def drain_until(dispatcher, done, rounds: int = 6) -> None:
    """Drain; failed deliveries come back after the (shortened, 1 s) backoff."""
    for _ in range(rounds):
        dispatcher.drain()
        if done():
            return
        time.sleep(1.1)
    dispatcher.drain()


def deliver(event: dict[str, Any], message_id: str, attempt: int = 1) -> dict[str, Any]:
    record = sqs_record(event, message_id)
    record["attributes"] = {"ApproximateReceiveCount": str(attempt)}
    return national_sync.handler({"Records": [record]}, CONTEXT)


def test_every_version_reaches_the_portal_in_order_and_the_ledger_says_synced(api, aws_env, dispatcher, simulators):
    code, citizen, _ = new_accepted(api)
    commune = officer(api)
    api.call("POST", f"/dossiers/{code}/forward", token=commune, body={"to_step": 2, "assignee": "can-bo-sxd"})
    act(api, code, officer(api, "000.00.15.H50", "officer-sxd"), "request_supplement", reason="Thiếu bản vẽ",
        documents=["Bản vẽ"])
    dispatcher.drain()
    portal = simulators.national.state()
    sent = [(c["service"], c["isUpdating"], c["count"], c["result"]) for c in portal["calls"] if c["MaHoSo"] == code]
    # submit (a create); accept (an update), then its acceptance and first step in one progress call;
    # the move to step 2; the supplement request
    assert sent == [("DongBoHoSoMC", "False", 1, "ok"), ("DongBoHoSoMC", "True", 1, "ok"),
                    ("CapNhatTienDoHoSoMC", None, 2, "ok"), ("CapNhatTienDoHoSoMC", None, 1, "ok"),
                    ("DongBoHoSoMC", "True", 1, "ok")]
    assert portal["dossiers"][code]["TrangThaiHoSo"] == "5"
    assert portal["dossiers"][code]["DanhSachHoSoBoSung"][0]["NoiDungBoSung"] == "Thiếu bản vẽ"
    assert [p["TrangThai"] for p in portal["progress"][code]] == ["2", "4", "4"]
    progress = portal["progress"][code][2]
    assert (progress["NguoiXuLy"], progress["PhongBanXuLy"]) == ("can-bo-sxd", "Phòng Quản lý hoạt động xây dựng")
    view = sync_of(api, code, citizen)
    assert view["version"] == 4
    assert view["national_sync"]["state"] == "synced" and view["national_sync"]["version"] == 4
    assert portal["auth_calls"] == 1                      # one token for the whole run


def test_an_outage_of_the_portal_is_retried_until_it_recovers(api, aws_env, dispatcher, simulators):
    simulators.national.control({"down": True})
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    during = sync_of(api, code, citizen)["national_sync"]
    assert during["state"] == "retrying" and during["version"] is None
    assert "503" in during["last_error"] and during["attempts"] >= 1
    simulators.national.control({"down": False})
    drain_until(dispatcher, lambda: sync_of(api, code, citizen)["national_sync"]["state"] == "synced")
    after = sync_of(api, code, citizen)["national_sync"]
    assert (after["state"], after["version"], after["last_error"], after["attempts"]) == ("synced", 2, None, 0)
    assert simulators.national.state()["dossiers"][code]["TrangThaiHoSo"] == "2"


def test_a_create_whose_answer_was_lost_is_sent_again_as_an_update_after_already_exists(api, aws_env, dispatcher,
                                                                                       simulators):
    simulators.national.control({"lost_answer": 1, "delay": 1.5})
    code, citizen, _ = new_accepted(api)
    drain_until(dispatcher, lambda: sync_of(api, code, citizen)["national_sync"]["state"] == "synced")
    calls = [(c["isUpdating"], c["result"]) for c in simulators.national.state()["calls"] if c["MaHoSo"] == code]
    assert calls[:3] == [("False", "ok, answer lost"), ("False", "already exists"), ("True", "ok")]
    assert sync_of(api, code, citizen)["national_sync"]["version"] == 2


def test_duplicates_and_stale_versions_make_no_second_call(api, aws_env, dispatcher, simulators):
    code, _, _ = new_accepted(api)
    dispatcher.drain()
    events = store.dossier_events(code)
    before = len(simulators.national.state()["calls"])
    assert deliver(events[1], "dup-1") == {"batchItemFailures": []}                 # same event id: idempotency
    copy = {**events[0], "id": "8d5e7a52-0000-4000-8000-000000000001"}
    assert deliver(copy, "dup-2") == {"batchItemFailures": []}                       # stale version, new id
    assert len(simulators.national.state()["calls"]) == before


def test_reordered_versions_wait_for_their_predecessor(api, aws_env, simulators):
    code, _, _ = new_accepted(api)
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    v1, v2, v3 = store.dossier_events(code)
    assert deliver(v1, "m1") == {"batchItemFailures": []}
    assert deliver(v3, "m3") == {"batchItemFailures": [{"itemIdentifier": "m3"}]}   # v2 not there yet
    _, ledger = sync_store.read(code)
    assert (ledger.version, ledger.state) == (1, "retrying") and "phiên bản 2" in ledger.last_error
    assert deliver(v2, "m2") == {"batchItemFailures": []}
    assert deliver(v3, "m3", attempt=2) == {"batchItemFailures": []}
    calls = [c["service"] for c in simulators.national.state()["calls"] if c["MaHoSo"] == code]
    assert calls == ["DongBoHoSoMC", "DongBoHoSoMC", "CapNhatTienDoHoSoMC", "CapNhatTienDoHoSoMC"]
    assert sync_store.read(code)[1].version == 3


def test_the_last_failed_delivery_marks_the_ledger_dead_and_redrive_replays_the_dlq(api, aws_env, dispatcher, simulators):
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    simulators.national.control({"down": True})
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    event = store.dossier_events(code)[-1]
    last = resources.NATIONAL_SYNC_QUEUE.max_receive_count
    assert deliver(event, "dead-1", attempt=last)["batchItemFailures"]
    assert sync_of(api, code, citizen)["national_sync"]["state"] == "dead"
    # what SQS does after the last failed receive: the message is in the DLQ
    sqs = aws.client("sqs")
    source, dlq = sync_ops._queue_urls(resources.NATIONAL_SYNC_QUEUE)
    for message in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"detail": event}))
    simulators.national.control({"down": False})
    assert sync_ops.redrive() == 1
    dispatcher.drain()
    view = sync_of(api, code, citizen)["national_sync"]
    assert (view["state"], view["version"]) == ("synced", 3)


def test_backfill_syncs_imported_legacy_dossiers_whose_ledger_is_behind(api, aws_env, dispatcher, simulators):
    from chalicelib.catalogue.store.procedures import snapshot
    procedure = snapshot().procedures["1.009994"]
    legacy = new_dossier(code="000.22.30.H50-240105-0007", procedure=procedure, owner_sub="legacy-v1",
                         channel="direct", submitted_at="2024-01-05T09:00:00+07:00",
                         submission={"applicant": {"full_name": "Phạm Thị Cúc", "id_number": "0" * 12,
                                                   "phone": "0905000111"},
                                     "summary": "Hồ sơ nhập từ hệ thống cũ", "form": {}, "attachments": []})
    legacy.update(status="returned", version=6, accepted_at="2024-01-05T09:30:00+07:00",
                  due_at="2024-01-26T17:00:00+07:00", finished_at="2024-01-24T15:00:00+07:00",
                  returned_at="2024-01-25T10:00:00+07:00")
    store.write_as_is(legacy)
    _current, _, _ = new_accepted(api)
    dispatcher.drain()                                    # the current one syncs through events
    assert sync_ops.backfill("2024-01-01", ["000.22.30.H50"]) == 1
    dispatcher.drain()
    _, ledger = sync_store.read(legacy["code"])
    assert (ledger.version, ledger.state) == (6, "synced")
    sent = simulators.national.state()["dossiers"][legacy["code"]]
    assert (sent["TrangThaiHoSo"], sent["NgayTra"], sent["KenhThucHien"], sent["HinhThuc"]) == (
        "10", "20240125100000", "1", "0")
    assert sync_ops.backfill("2024-01-01", ["000.22.30.H50"]) == 0    # nothing behind any more


def test_each_event_makes_its_calls_and_one_auth_serves_the_session_lifetime(api, aws_env, dispatcher, simulators):
    simulators.national.control({"session_ttl": 3600})
    for i in range(3):
        new_accepted(api, key=f"auth-{i:04d}")
    dispatcher.drain()
    state = simulators.national.state()
    assert len(state["calls"]) == 9 and state["auth_calls"] == 1      # per dossier: submit; accept and its progress
    simulators.national.control({"expire_sessions": True})   # the portal forgot the session
    new_accepted(api, key="auth-0009")
    dispatcher.drain()
    state = simulators.national.state()
    assert state["auth_calls"] == 2 and [c["result"] for c in state["calls"][9:]].count("ok") == 3


def converged(api, code, citizen) -> bool:
    view = sync_of(api, code, citizen)
    return view["national_sync"]["state"] == "synced" and view["national_sync"]["version"] == view["version"]


def test_a_session_refused_once_is_renewed_and_the_ledger_stays_synced(api, aws_env, dispatcher, simulators):
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    simulators.national.control({"unauthorized": 1})
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    dispatcher.drain()
    assert converged(api, code, citizen)
    assert simulators.national.state()["auth_calls"] == 2
    assert sync_of(api, code, citizen)["national_sync"]["attempts"] == 0


def test_401_twice_is_a_configuration_error_not_retried_and_backfill_sends_it_after_the_fix(api, aws_env, dispatcher,
                                                                                            simulators):
    simulators.national.control({"unauthorized": 2})
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    view = sync_of(api, code, citizen)["national_sync"]
    assert view["state"] == "dead" and "cấu hình" in view["last_error"] and "401" in view["last_error"]
    calls = [c["result"] for c in simulators.national.state()["calls"]]
    assert calls == ["http 401", "http 401"]                 # renewed once, then given up: no retry storm
    time.sleep(1.1)
    dispatcher.drain()                                        # the v2 event waits behind v1 (dead, dropped)
    assert sync_ops.backfill("2020-01-01", ["000.22.30.H50"]) == 1
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    assert converged(api, code, citizen)
    assert str(simulators.national.state()["dossiers"][code]["TrangThaiHoSo"]) == "2"


@pytest.mark.parametrize("hooks", [{"malformed": 2}, {"no_error_code": 1}, {"fail": 2}])
def test_malformed_answers_and_server_errors_are_retried_until_the_ledger_converges(api, aws_env, dispatcher,
                                                                                    simulators, hooks):
    simulators.national.control(hooks)
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    assert sync_of(api, code, citizen)["national_sync"]["state"] == "retrying"
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    assert converged(api, code, citizen) and sync_of(api, code, citizen)["national_sync"]["attempts"] == 0


@pytest.mark.parametrize("numeric", [False, True])
def test_error_codes_as_strings_or_numbers_both_converge(api, aws_env, dispatcher, simulators, numeric):
    simulators.national.control({"numeric_codes": numeric})
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    assert converged(api, code, citizen)
    assert {c["result"] for c in simulators.national.state()["calls"]} == {"ok"}


def test_the_calls_go_dossier_first_then_progress_and_a_later_failure_still_knows_the_portal_has_it():
    from chalicelib.sync.adapters.national_portal import PortalUnavailable
    from chalicelib.sync.use_cases.national_sync import _Progress, send

    made: list[tuple[str, Any]] = []

    class Adapter:
        def sync_dossier(self, records, *, exists):
            made.append(("DongBoHoSoMC", exists))
            return exists

        def send_progress(self, records):
            made.append(("CapNhatTienDoHoSoMC", len(records)))
            raise PortalUnavailable("HTTP 503")

        def call(self, service, records):
            made.append((service, len(records)))

    progress = _Progress(on_portal=False)
    with pytest.raises(PortalUnavailable):
        send([("DongBoHoSoMC", [{}]), ("CapNhatTienDoHoSoMC", [{}, {}]), ("DongBoDanhGia", [{}])], Adapter(), progress)
    assert made == [("DongBoHoSoMC", False), ("CapNhatTienDoHoSoMC", 2)] and progress.on_portal   # the retry updates


def test_a_failing_delivery_reports_its_lag_and_a_configuration_error_its_own_alarm(api, aws_env, simulators, capsys):
    simulators.national.control({"down": True})
    code, _, _ = new_accepted(api)
    first = store.dossier_events(code)[0]
    capsys.readouterr()
    assert deliver(first, "lag-1")["batchItemFailures"]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["service"] for m in metrics if "NationalSyncLagSeconds" in m] == ["national-sync"]
    simulators.national.control({"down": False, "unauthorized": 2})
    assert deliver(first, "config-1", attempt=2) == {"batchItemFailures": []}       # not retried
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["NationalSyncConfigurationErrors"] for m in metrics if "NationalSyncConfigurationErrors" in m] == [[1.0]]
