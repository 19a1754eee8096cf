"""A record the national portal refuses for its data, against the loopback simulator over the
real protocol: recorded as ``rejected`` with the portal's message, alarmed, not retried; a
transient fault still retried; the next version delivered whole; an operator's resend."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.adapters.national_portal import PortalRefusedRecord, PortalRejected
from chalicelib.runtime.settings import settings
from chalicelib.sync.store import sync_ledger as sync_store
from motcua.cli import main
from tests.api.test_national_adapter import CODE, GOOD, adapter, sim  # noqa: F401  (sim: a fixture)
from tests.api.test_national_sync import converged, deliver, drain_until, sync_of
from tests.api.test_workflow import new_accepted, officer

HOUSE_PROCEDURE = "1.009994"


def calls_for(simulators, code):
    return [(c["service"], c["isUpdating"], c["count"], c["result"])
            for c in simulators.national.state()["calls"] if c["MaHoSo"] == code]


def metrics(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def synced_at_v2(api, dispatcher):
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    assert converged(api, code, citizen)
    return code, citizen


def test_a_record_the_portal_refuses_for_its_data_is_rejected_alarmed_and_not_retried(api, aws_env, dispatcher,
                                                                                     simulators, capsys):
    code, citizen = synced_at_v2(api, dispatcher)
    simulators.national.control({"refuse": 1})
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    v3 = store.dossier_events(code)[-1]
    capsys.readouterr()
    assert deliver(v3, "refused-1") == {"batchItemFailures": []}            # consumed: not back on the queue
    found = metrics(capsys)
    assert [m["NationalSyncRejections"] for m in found if "NationalSyncRejections" in m] == [[1.0]]
    assert not [m for m in found if "NationalSyncLagSeconds" in m]          # not an outage
    view = sync_of(api, code, citizen)["national_sync"]
    assert (view["state"], view["version"], view["rejected_version"]) == ("rejected", 2, 3)
    assert "Dữ liệu không hợp lệ" in view["last_error"] and "MaTTHC" in view["last_error"]
    before = len(simulators.national.state()["calls"])
    again = {**v3, "id": "8d5e7a52-0000-4000-8000-00000000aa01"}             # a redelivery under a new id
    assert deliver(again, "refused-2", attempt=2) == {"batchItemFailures": []}
    assert len(simulators.national.state()["calls"]) == before               # the refused record is not resent
    assert sync_store.read(code)[1].attempts == 1


def test_a_refused_record_through_the_queue_is_sent_once_and_waits_for_no_backoff(api, aws_env, dispatcher,
                                                                                 simulators):
    code, citizen = synced_at_v2(api, dispatcher)
    simulators.national.control({"refuse": 1})
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    dispatcher.drain()
    time.sleep(1.1)                                                          # past the (shortened) backoff
    dispatcher.drain()
    assert [r for *_, r in calls_for(simulators, code)][-1:] == ["invalid"]
    assert sum(r == "invalid" for *_, r in calls_for(simulators, code)) == 1
    assert sync_of(api, code, citizen)["national_sync"]["state"] == "rejected"


@pytest.mark.parametrize("hooks", [{"busy": 2}, {"fail": 1}])
def test_a_transient_fault_is_still_retried_until_the_ledger_converges(api, aws_env, dispatcher, simulators, capsys,
                                                                      hooks):
    simulators.national.control(hooks)
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    view = sync_of(api, code, citizen)["national_sync"]
    assert view["state"] == "retrying" and "rejected_version" not in view
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    assert converged(api, code, citizen)
    assert not [m for m in metrics(capsys) if "NationalSyncRejections" in m]


def test_a_code_the_stage_lists_as_the_portals_own_fault_is_retried_not_rejected(api, aws_env, dispatcher,
                                                                                simulators, monkeypatch):
    monkeypatch.setenv("MOTCUA_NATIONAL_RETRY_CODES", "-7, 12")
    settings.cache_clear()
    simulators.reset_clients()
    simulators.national.control({"refuse": 1, "refuse_code": 12})
    code, citizen, _ = new_accepted(api)
    dispatcher.drain()
    assert sync_of(api, code, citizen)["national_sync"]["state"] == "retrying"
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    assert converged(api, code, citizen)


def test_a_later_version_after_a_rejection_is_delivered_whole(api, aws_env, dispatcher, simulators):
    simulators.national.control({"refuse": 1})                              # the create of version 1 is refused
    code, citizen, _ = new_accepted(api)
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    view = sync_of(api, code, citizen)
    assert (view["national_sync"]["state"], view["national_sync"]["version"]) == ("synced", view["version"])
    assert "rejected_version" not in view["national_sync"]
    calls = calls_for(simulators, code)
    assert calls[0] == ("DongBoHoSoMC", "False", 1, "invalid")
    # the next version went as a create of the dossier as it is now, with every progress record
    assert calls[1] == ("DongBoHoSoMC", "False", 1, "ok")
    assert [p["TrangThai"] for p in simulators.national.state()["progress"][code]] == ["2", "4", "4"]
    assert simulators.national.state()["dossiers"][code]["TrangThaiHoSo"] == "4"
    assert sync_store.read(code)[1].rejected_version is None


def test_a_dossier_of_a_procedure_the_portal_does_not_know_is_resent_by_the_operator_after_the_fix(
        api, aws_env, dispatcher, simulators, capsys, monkeypatch):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")       # the CLI's local defaults must not point at a moto server
    simulators.national.control({"unknown_procedures": [HOUSE_PROCEDURE]})
    code, citizen, _ = new_accepted(api)
    drain_until(dispatcher, lambda: sync_of(api, code, citizen)["national_sync"].get("rejected_version") == 2)
    view = sync_of(api, code, citizen)["national_sync"]
    assert (view["state"], view["version"], view["rejected_version"]) == ("rejected", None, 2)
    assert f"thủ tục {HOUSE_PROCEDURE} không có" in view["last_error"]
    capsys.readouterr()
    assert main(["sync", "show", code]) == 0
    assert "national sync: rejected, portal has version 0, refused version 2" in capsys.readouterr().err
    assert main(["sync", "check"]) == 1
    assert "Cổng DVCQG: đã từ chối phiên bản 2: DongBoHoSoMC: error_code 1" in capsys.readouterr().out
    assert main(["sync", "rejected", "--since", "2020-01-01"]) == 1
    assert code in capsys.readouterr().out
    simulators.national.control({"unknown_procedures": []})               # the portal's catalogue is fixed
    assert main(["sync", "resend", code]) == 0
    drain_until(dispatcher, lambda: converged(api, code, citizen))
    assert converged(api, code, citizen)
    assert main(["sync", "rejected", "--since", "2020-01-01"]) == 0
    assert main(["sync", "resend", "000.22.30.H50-000000-0000"]) == 1


def test_the_adapter_tells_a_refused_record_from_the_portals_own_fault(sim):
    portal = adapter(sim)
    sim.control({"refuse": 1})
    with pytest.raises(PortalRefusedRecord) as refused:
        portal.sync_dossier([GOOD], exists=False)
    assert refused.value.code == 1 and "MaTTHC" in refused.value.message and CODE not in sim.state()["dossiers"]
    sim.control({"busy": 1})
    with pytest.raises(PortalRejected) as busy:
        portal.sync_dossier([GOOD], exists=False)
    assert not isinstance(busy.value, PortalRefusedRecord) and busy.value.code == -99
    with pytest.raises(PortalRejected) as missing:                        # an update of a dossier it lacks
        portal.sync_dossier([GOOD], exists=True)
    assert not isinstance(missing.value, PortalRefusedRecord) and missing.value.code == 4


def test_a_session_the_portal_refuses_in_the_answer_body_is_renewed_not_taken_as_a_refused_record(sim):
    portal = adapter(sim)
    portal.session()
    sim.control({"session_lost": 1})
    assert portal.sync_dossier([GOOD], exists=False) is False
    assert sim.state()["auth_calls"] == 2 and CODE in sim.state()["dossiers"]
