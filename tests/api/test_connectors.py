"""Ministry-system connectors in both directions, with the judicial-records test double."""
from __future__ import annotations

import json
from pathlib import Path
import time
import uuid

import pytest

from chalicelib.sync.rules import connectors
from chalicelib.dossiers.store import dossiers as store
from tests.api.conftest import put_upload
from tests.api.payment_kit import Flow, flow, vnpay  # noqa: F401  (fixtures)
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import HOUSE, officer

JUDICIAL_RECORD = "1.001023"
SYSTEM = "judicial-records"


def report(api, kind, code, data=None, *, event_id=None, secret=None, token=None, signature=None, system=SYSTEM):
    body = json.dumps({"event_id": event_id or uuid.uuid4().hex, "type": kind, "dossier_code": code,
                       "data": data or {}}).encode()
    headers = {} if signature is False else {
        "X-MotCua-Signature": signature or connectors.sign(secret or connectors.systems()[SYSTEM].secret(), body)}
    return api.call("POST", f"/integrations/{system}/events", raw=body, headers=headers,
                    token=token or api.token("integration", sub=f"integration-{SYSTEM}"))


@pytest.fixture
def judicial(api):
    citizen = api.token("citizen", sub="citizen-lltp")
    code = submit(api, submission(JUDICIAL_RECORD, notify=["sms"]), citizen, key="lltp-0001").json["dossier_code"]
    return code, citizen


@pytest.fixture
def paid_judicial(judicial, flow: Flow):
    """The judicial-records dossier with its 200.000 đ paid: the procedure takes its fees
    before acceptance, so a system's acceptance report needs them paid, as an officer does."""
    code, citizen = judicial
    flow.citizen = citizen
    _, params = flow.pay(code)
    assert flow.ipn(params).json["RspCode"] == "00"
    return code, citizen


def test_chosen_events_of_its_procedures_reach_the_system_signed(api, aws_env, dispatcher, simulators):
    citizen = api.token("citizen", sub="citizen-out")
    mine = submit(api, submission(JUDICIAL_RECORD), citizen, key="out-0001").json["dossier_code"]
    submit(api, submission(HOUSE), citizen, key="out-0002")                     # not a judicial-records procedure
    simulators.judicial.control({"fail": 1})                                     # first delivery fails
    dispatcher.drain()
    assert simulators.judicial.state()["received"] == []
    time.sleep(1.1)
    dispatcher.drain()
    received = simulators.judicial.state()["received"]
    assert [(e["type"], e["dossier_code"]) for e in received] == [("DossierSubmitted", mine)]
    assert simulators.judicial.state()["refused"] == 0


def test_a_wrong_secret_is_refused_by_the_system(api, aws_env, dispatcher, simulators, monkeypatch):
    monkeypatch.setenv(connectors.systems()[SYSTEM].secret_setting, "some-other-secret")
    submit(api, submission(JUDICIAL_RECORD), api.token("citizen"), key="out-0003")
    dispatcher.drain()
    state = simulators.judicial.state()
    assert state["received"] == [] and state["refused"] >= 1


def test_the_system_reports_acceptance_progress_result_and_return(api, aws_env, dispatcher, simulators,
                                                                  paid_judicial):
    code, citizen = paid_judicial
    version = store.get_dossier(code)["version"] + 1                              # after the payment's events
    accepted = report(api, "accepted", code, event_id="lltp-evt-1")
    assert accepted.status_code == 200, accepted.json
    assert accepted.json == {"event_id": "lltp-evt-1", "applied": True, "dossier_code": code,
                             "status": "accepted", "version": version}
    again = report(api, "accepted", code, event_id="lltp-evt-1")                  # retried by the system
    assert again.status_code == 200 and again.json["applied"] is False and again.json["version"] == version
    assert report(api, "progress", code, {"to_step": 2, "assignee": "Lãnh đạo Sở", "note": "Trình ký"}).json["status"] == "processing"
    document = {"upload_id": put_upload(aws_env, f"integration-{SYSTEM}"), "name": "Phiếu LLTP số 1.pdf"}
    result = report(api, "result", code, {"decision": "approved", "documents": [document]})
    assert result.json["status"] == "finished", result.json
    assert report(api, "returned", code, {"method": "post"}).json["status"] == "returned"
    dossier = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert dossier["decisions"][0] == {**dossier["decisions"][0], "by": "integration:judicial-records",
                                       "source_event_id": "lltp-evt-1"}
    assert dossier["due_at"] and dossier["finished_at"] and dossier["result"]["documents"] == [document]
    rated = api.call("POST", f"/dossiers/{code}/rating", token=citizen,
                     body={"criteria": {str(n): 2 for n in range(1, 10)}, "overall": 5})
    assert rated.status_code == 200                                               # rating works for them too
    dispatcher.drain()
    lines = [json.loads(x) for x in Path(simulators.sink).read_text(encoding="utf-8").splitlines()]
    assert {"DossierAccepted", "DossierResultIssued", "DossierResultReturned"} <= {r["event_type"] for r in lines}


def test_a_system_cannot_accept_an_unpaid_dossier_whose_procedure_takes_fees_first(api, judicial):
    code, _ = judicial                    # 1.001023 takes 200.000 đ before acceptance; nothing is paid
    refused = report(api, "accepted", code)
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "fees_unpaid"
    assert refused.json["error"]["amount_due"] == 200_000 and refused.json["error"]["amount_paid"] == 0
    dossier = store.get_dossier(code)
    assert (dossier["status"], dossier["version"]) == ("submitted", 1)


@pytest.mark.parametrize("case", ["unsigned", "bad signature", "officer token", "another system's client", "unknown system",
                                  "other procedure", "bad transition", "bad body"])
def test_bad_inbound_calls_change_nothing(api, aws_env, judicial, case):
    code, _ = judicial
    house = submit(api, submission(HOUSE), api.token("citizen", sub="citizen-x"), key="lltp-0002").json["dossier_code"]
    target, expected = code, 401
    kwargs: dict = {}
    kind = "accepted"
    if case == "unsigned":
        kwargs["signature"] = False
    elif case == "bad signature":
        kwargs["secret"] = "not-the-secret"
    elif case == "officer token":
        kwargs["token"], expected = officer(api, "000.00.13.H50"), 403
    elif case == "another system's client":
        kwargs["token"], expected = api.token("integration", sub="integration-land-registry"), 403
    elif case == "unknown system":
        kwargs["system"], expected = "land-registry", 404
    elif case == "other procedure":
        target, expected = house, 404
    elif case == "bad transition":
        kind, expected = "returned", 409
    elif case == "bad body":
        kind, expected = "approved", 422
    response = report(api, kind, target, {"method": "desk"}, **kwargs)
    assert response.status_code == expected, response.json
    assert response.json["error"]["message"]
    assert store.get_dossier(code)["version"] == 1 and store.get_dossier(house)["version"] == 1


def test_signatures_are_hmac_sha256_of_the_raw_body():
    body = b'{"a":1}'
    signature = connectors.sign("k", body)
    assert signature == "sha256=" + __import__("hmac").new(b"k", body, "sha256").hexdigest()
    assert connectors.verify("k", body, signature) and connectors.verify("k", body, signature.upper().replace("SHA", "sha"))
    assert not connectors.verify("k", body + b" ", signature) and not connectors.verify("k", body, None)


def test_a_duplicated_or_reordered_delivery_reaches_the_system_once_each(api, aws_env, simulators, paid_judicial):
    from handlers import connectors as outbound
    from motcua.dispatcher import LambdaContext
    from tests.api.test_consumer import sqs_record
    code, _ = paid_judicial
    assert report(api, "accepted", code).status_code == 200
    events = {event["type"]: event for event in store.dossier_events(code)}
    submitted, accepted = events["DossierSubmitted"], events["DossierAccepted"]
    arn = "arn:aws:sqs:ap-southeast-1:123456789012:motcua-local-connector-judicial-records"
    records = [sqs_record(event, f"m{i}") for i, event in enumerate([accepted, submitted, accepted])]
    for record in records:
        record["eventSourceARN"] = arn
    assert outbound.handler({"Records": records}, LambdaContext("connector")) == {"batchItemFailures": []}
    state = simulators.judicial.state()
    assert [e["type"] for e in state["received"]] == ["DossierAccepted", "DossierSubmitted"]
    assert state["posts"] == 2                      # the duplicate never left MotCua
