"""`make run` pointed at an outside portal by environment variables alone (issue 15): a strict
double behind an LGSP, on endpoints of its own, with its own account and dstcode, answering
error codes as strings; its first answer is lost, so the stack's repeated create is answered
"đã tồn tại" and must be resent as an update. The dossier's ledger converges."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from motcua.local_process import LocalStack as Stack
from motcua.simulators.national import NationalPortalSimulator
from tests.stack.test_workflow_stack import HOUSE, submit, wait_for

pytestmark = pytest.mark.stack
ACCOUNT = ("tinh-x-dvc", "outside-password-not-real")
LGSP_CLIENT = ("tinh-x-lgsp", "outside-lgsp-secret-not-real")


@pytest.fixture(scope="module")
def outside() -> Iterator[NationalPortalSimulator]:
    with NationalPortalSimulator(0, *ACCOUNT, dstcode="DVCQG-OUTSIDE", lgsp=LGSP_CLIENT) as double:
        yield double


@pytest.fixture(scope="module")
def stack(outside: NationalPortalSimulator) -> Iterator[Stack]:
    running = Stack(MOTCUA_RETRY_FIRST_SECONDS="1", MOTCUA_RETRY_MAX_SECONDS="1", MOTCUA_NATIONAL_TIMEOUT="2",
                    MOTCUA_NATIONAL_AUTH_URL=f"{outside.url}/lgsp/dvcqg/auth",
                    MOTCUA_NATIONAL_SERVICE_URL=f"{outside.url}/lgsp/dvcqg/service",
                    MOTCUA_NATIONAL_LGSP_URL=f"{outside.url}/lgsp", MOTCUA_NATIONAL_DSTCODE="DVCQG-OUTSIDE",
                    MOTCUA_NATIONAL_USERNAME=ACCOUNT[0], MOTCUA_NATIONAL_PASSWORD=ACCOUNT[1],
                    MOTCUA_NATIONAL_LGSP_CLIENT_ID=LGSP_CLIENT[0], MOTCUA_NATIONAL_LGSP_CLIENT_SECRET=LGSP_CLIENT[1])
    yield running
    assert running.stop() == 0, running.tail()


def test_a_local_stack_given_an_outside_portal_syncs_to_it_and_converges(stack, outside):
    assert f"National sync -> {outside.url}/lgsp/dvcqg/service" in "".join(stack.banner)
    outside.control({"lost_answer": 1, "delay": 3})
    citizen = stack.token("citizen", sub="citizen-outside")
    code = submit(stack, citizen)
    accepted = stack.call("POST", f"/dossiers/{code}/accept", stack.token("officer", "000.22.30.H50"))
    assert accepted.status_code == 200, accepted.text

    def converged() -> bool:
        view = stack.call("GET", f"/dossiers/{code}", citizen).json()
        return view["national_sync"]["state"] == "synced" and view["national_sync"]["version"] == view["version"]

    wait_for(converged, what="the ledger to reach the dossier's version")
    state = outside.state()
    creates = [(c["isUpdating"], c["result"]) for c in state["calls"] if c["service"] == "DongBoHoSoMC"]
    assert creates[:3] == [("False", "ok, answer lost"), ("False", "already exists"), ("True", "ok")]
    assert state["dossiers"][code]["MaTTHC"] == HOUSE
    assert state["token_calls"] == 1 and state["auth_calls"] == 1
    local = requests.get(f"http://127.0.0.1:{stack.env['MOTCUA_NATIONAL_SIM_PORT']}/_state", timeout=5).json()
    assert local["calls"] == [] and local["auth_calls"] == 0      # nothing went to the stack's own simulator
