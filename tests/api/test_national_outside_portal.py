"""The sync pointed at an outside portal through its settings alone, as `make run` is pointed
at a portal test environment (docs/national-portal.md): a second, strict double on loopback
behind an LGSP, on endpoints of its own, with its own account and dstcode, answering error
codes as strings and "đã tồn tại" to a create of a dossier it already holds."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.dossiers.rules.submission import new_dossier
from chalicelib.dossiers.store import dossiers as store
from chalicelib.sync.store import sync_ledger as sync_store
from motcua import sync_ops
from motcua.simulators.national import NationalPortalSimulator
from tests.api.test_national_sync import drain_until
from tests.api.test_workflow import new_accepted, officer

ACCOUNT = ("tinh-x-dvc", "outside-password-not-real")
LGSP_CLIENT = ("tinh-x-lgsp", "outside-lgsp-secret-not-real")


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch, simulators: Any) -> Any:
    with NationalPortalSimulator(0, *ACCOUNT, dstcode="DVCQG-OUTSIDE", lgsp=LGSP_CLIENT) as double:
        for name, value in {"MOTCUA_NATIONAL_AUTH_URL": f"{double.url}/lgsp/dvcqg/auth",
                            "MOTCUA_NATIONAL_SERVICE_URL": f"{double.url}/lgsp/dvcqg/service",
                            "MOTCUA_NATIONAL_LGSP_URL": f"{double.url}/lgsp",
                            "MOTCUA_NATIONAL_DSTCODE": "DVCQG-OUTSIDE",
                            "MOTCUA_NATIONAL_USERNAME": ACCOUNT[0], "MOTCUA_NATIONAL_PASSWORD": ACCOUNT[1],
                            "MOTCUA_NATIONAL_LGSP_CLIENT_ID": LGSP_CLIENT[0],
                            "MOTCUA_NATIONAL_LGSP_CLIENT_SECRET": LGSP_CLIENT[1]}.items():
            monkeypatch.setenv(name, value)
        simulators.reset_clients()
        yield double
    simulators.reset_clients()


def test_the_sync_converges_against_an_outside_portal_given_by_settings(api, aws_env, dispatcher, simulators, outside):
    code, citizen, _ = new_accepted(api)
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    dispatcher.drain()
    view = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert view["national_sync"]["state"] == "synced" and view["national_sync"]["version"] == view["version"]
    state = outside.state()
    dossier_calls = [(c["isUpdating"], c["result"]) for c in state["calls"] if c["service"] == "DongBoHoSoMC"]
    assert dossier_calls == [("False", "ok"), ("True", "ok")]                 # a create, then an update
    assert {c["result"] for c in state["calls"]} == {"ok"} and code in state["progress"]
    assert (state["auth_calls"], state["token_calls"]) == (1, 1)
    assert simulators.national.state()["calls"] == []          # nothing went to the local simulator


def test_a_dossier_the_outside_portal_already_holds_is_resent_as_an_update(api, aws_env, dispatcher, simulators,
                                                                            outside):
    from chalicelib.catalogue.store.procedures import snapshot
    dossier = new_dossier(code="000.22.30.H50-240105-0007", procedure=snapshot().procedures["1.009994"],
                          owner_sub="legacy-v1", channel="direct", submitted_at="2024-01-05T09:00:00+07:00",
                          submission={"applicant": {"full_name": "Phạm Thị Cúc", "id_number": "0" * 12,
                                                    "phone": "0905000111"},
                                      "summary": "Hồ sơ v1", "form": {}, "attachments": []})
    dossier.update(status="accepted", version=2, accepted_at="2024-01-05T09:30:00+07:00",
                   due_at="2024-01-26T17:00:00+07:00")
    store.write_as_is(dossier)
    outside.dossiers[dossier["code"]] = {"MaHoSo": dossier["code"], "MaTTHC": "1.009994", "TenTTHC": "v1"}
    assert sync_ops.backfill("2024-01-01", ["000.22.30.H50"]) == 1
    drain_until(dispatcher, lambda: sync_store.read(dossier["code"])[1] is not None)
    _, ledger = sync_store.read(dossier["code"])
    assert (ledger.version, ledger.state, ledger.on_portal) == (2, "synced", True)
    assert [(c["isUpdating"], c["result"]) for c in outside.state()["calls"] if c["service"] == "DongBoHoSoMC"] == [
        ("False", "already exists"), ("True", "ok")]
    assert outside.state()["dossiers"][dossier["code"]]["ChuHoSo"] == "Phạm Thị Cúc"


def test_the_local_stack_keeps_the_portal_settings_given_in_its_environment(monkeypatch):
    """What `make run` does with its environment: the simulators' settings are defaults only,
    so every portal setting given is kept, and the simulator expects the routing code given."""
    from chalicelib.runtime.settings import settings
    from motcua.local import national_banner
    from motcua.simulators import start_all
    given = {"MOTCUA_NATIONAL_URL": "https://dvcqg-test.example.vn/api", "MOTCUA_NATIONAL_DSTCODE": "DVCQG-TEST",
             "MOTCUA_NATIONAL_AUTH_URL": "https://lgsp.example.vn/dvcqg/auth",
             "MOTCUA_NATIONAL_SERVICE_URL": "https://lgsp.example.vn/dvcqg/service",
             "MOTCUA_NATIONAL_LGSP_URL": "https://lgsp.example.vn", "MOTCUA_NATIONAL_USERNAME": "tinh-x"}
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    running = start_all(port=0)
    try:
        assert running.national.dstcode == "DVCQG-TEST"
        for name, value in running.environment().items():      # as motcua/local.py applies them
            monkeypatch.setenv(name, given.get(name, value))
        cfg = settings()
        assert (cfg.national.url, cfg.national.auth_url, cfg.national.service_url, cfg.national.dstcode,
                cfg.national.lgsp_url, cfg.local_credentials.national_username) == (
            given["MOTCUA_NATIONAL_URL"], given["MOTCUA_NATIONAL_AUTH_URL"], given["MOTCUA_NATIONAL_SERVICE_URL"],
            "DVCQG-TEST", "https://lgsp.example.vn", "tinh-x")
        assert "https://lgsp.example.vn/dvcqg/service" in national_banner(cfg) and "DVCQG-TEST" in national_banner(cfg)
    finally:
        running.stop()
