"""Crash points: the process dies before or after each AWS call of an operation, N enumerated
over all the operation's calls (motcua.faults). The client then retries (same Idempotency-Key,
same IPN query, the same stream batch or SQS message again) and the tables must show
exactly one dossier, one event per version, one payment success, and no record that blocks
the user."""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import pytest

from chalicelib.runtime import resources
from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from handlers import publisher
from motcua import faults, metering
from motcua.dispatcher import LambdaContext, StreamPump
from tests.api.conftest import put_upload
from tests.api.payment_kit import flow, vnpay  # noqa: F401  (fixtures)
from tests.api.reliability_kit import audit, scale
from tests.api.test_events import tap_events
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import ALL_CRITERIA, DEPARTMENT, HOUSE, act, officer

WHEN = ("before", "after")


FULL = bool(scale("MOTCUA_CRASH_FULL", 1))     # every call of every transition (0: only around the commits)


def crash_cases(calls_of_one_run: Callable[[], list[str]], *, every_call: bool = True) -> list[tuple[int, str]]:
    """Every (n, when) for the calls one clean, warm run of the operation makes (the first
    run also fills the catalogue cache). Without ``every_call`` (deep transitions in
    ``make test``, whose set-up is long) only the commit: before and after the write."""
    calls_of_one_run()
    calls = calls_of_one_run()
    assert calls
    picked = range(1, len(calls) + 1) if every_call or FULL else [
        n for n, name in enumerate(calls, 1) if name == "dynamodb.TransactWriteItems"]
    return [(n, when) for n in picked for when in WHEN]


def run_crashing(n: int, when: str, operation: Callable[[], Any]) -> str:
    """Run ``operation`` with the n-th AWS call dying; returns which call died."""
    with faults.crash_at(n, when) as plan, pytest.raises(faults.InjectedCrash):
        operation()
    assert plan.fired
    return plan.fired


def calls_of(operation: Callable[[], Any]) -> list[str]:
    """The AWS calls ``operation`` makes, in order (``service.Operation``)."""
    with metering.recording() as calls:
        operation()
    return [f"{service}.{name}" for service, name, _ in calls]


# --- submit -----------------------------------------------------------------------------

def test_a_submission_crashing_at_any_aws_call_is_retried_to_exactly_one_dossier(api, aws_env):
    citizen = api.token("citizen", sub="citizen-crash")
    keys = (f"crash-submit-{i:04d}" for i in itertools.count())
    cases = crash_cases(lambda: calls_of(lambda: submit(api, submission(HOUSE), citizen, key=next(keys))))
    for n, when in cases:
        key = next(keys)
        died = run_crashing(n, when, lambda key=key: submit(api, submission(HOUSE), citizen, key=key))
        retried = submit(api, submission(HOUSE), citizen, key=key)
        assert retried.status_code == 201, (n, when, died, retried.json)
        again = submit(api, submission(HOUSE), citizen, key=key)       # and it stays one dossier
        assert again.json["dossier_code"] == retried.json["dossier_code"]
        assert again.headers["Idempotent-Replayed"] == "true"
    held = audit(aws_env)
    assert len(held["dossiers"]) == len(cases) + 2 == len(held["idempotency"])   # + the two counting runs


# --- accept and every workflow transition ------------------------------------------------

@dataclass
class Stage:
    """One transition of the house-permit path: how to perform it, and the status after."""
    name: str
    perform: Callable[[Any, Any, str], Any]
    after: str


def _upload(aws_env: Any, sub: str, name: str) -> list[dict[str, str]]:
    return [{"upload_id": put_upload(aws_env, sub), "name": name}]


PATH = [
    Stage("accept", lambda api, env, code: api.call("POST", f"/dossiers/{code}/accept", token=officer(api)), "accepted"),
    Stage("forward", lambda api, env, code: api.call("POST", f"/dossiers/{code}/forward", token=officer(api),
                                                    body={"to_step": 2}), "processing"),
    Stage("request_supplement", lambda api, env, code: act(
        api, code, officer(api, DEPARTMENT, "officer-sxd"), "request_supplement",
        reason="Thiếu bản vẽ", documents=["Bản vẽ mặt bằng"]), "supplement_requested"),
    Stage("supplement", lambda api, env, code: api.call(
        "POST", f"/dossiers/{code}/supplements", token=api.token("citizen", sub="citizen-crash"),
        body={"attachments": _upload(env, "citizen-crash", "Bản vẽ.pdf")}), "processing"),
    Stage("forward_back", lambda api, env, code: api.call(
        "POST", f"/dossiers/{code}/forward", token=officer(api, DEPARTMENT, "officer-sxd"), body={"to_step": 3}),
        "processing"),
    Stage("issue_result", lambda api, env, code: act(
        api, code, officer(api), "issue_result", decision="approved",
        documents=_upload(env, "officer-commune", "Giấy phép.pdf")), "finished"),
    Stage("return_result", lambda api, env, code: act(api, code, officer(api), "return_result", method="desk"),
          "returned"),
    Stage("rate", lambda api, env, code: api.call(
        "POST", f"/dossiers/{code}/rating", token=api.token("citizen", sub="citizen-crash"),
        body={"criteria": ALL_CRITERIA, "overall": 5}), "returned"),
]
SIDE_EXITS = [
    Stage("refuse", lambda api, env, code: api.call("POST", f"/dossiers/{code}/refuse", token=officer(api),
                                                   body={"reason": "Không thuộc thẩm quyền"}), "refused"),
    Stage("withdraw", lambda api, env, code: act(api, code, api.token("citizen", sub="citizen-crash"), "withdraw",
                                                 reason="Không còn nhu cầu"), "withdrawn"),
]
_keys = itertools.count()
CHEAP = ("accept",)   # every call in make test; the others: the commit, before and after
ALREADY_DONE = {(409, "invalid_transition"), (409, "already_rated"), (409, "already_at_step"),
                (403, "agency_out_of_scope")}


def dossier_before(api: Any, aws_env: Any, stage: Stage) -> str:
    """A fresh dossier that has gone through every stage before ``stage``."""
    citizen = api.token("citizen", sub="citizen-crash")
    code = submit(api, submission(HOUSE), citizen, key=f"crash-path-{next(_keys):05d}").json["dossier_code"]
    for earlier in itertools.takewhile(lambda s: s is not stage, PATH if stage in PATH else []):
        response = earlier.perform(api, aws_env, code)
        assert response.status_code == 200, (earlier.name, response.json)
    return code


# moto copies whole tables on every transaction, so each transition gets a fresh world.
# make test: every call of accept, the commit of a representative few; make soak: all.
QUICK = ("accept", "forward", "request_supplement", "issue_result", "refuse")


@pytest.mark.parametrize("stage", [s for s in PATH + SIDE_EXITS if FULL or s.name in QUICK], ids=lambda s: s.name)
def test_a_transition_crashing_at_any_aws_call_is_applied_exactly_once_after_the_retry(api, aws_env, stage):
    def one_clean_run() -> list[str]:
        code = dossier_before(api, aws_env, stage)
        return calls_of(lambda: stage.perform(api, aws_env, code))

    cases = crash_cases(one_clean_run, every_call=stage.name in CHEAP)
    for n, when in cases:
        code = dossier_before(api, aws_env, stage)
        version = store.get_dossier(code)["version"]
        died = run_crashing(n, when, lambda code=code: stage.perform(api, aws_env, code))
        retried = stage.perform(api, aws_env, code)
        dossier = store.get_dossier(code)
        # Before the commit the retry applies it; after, the retry is refused as already done
        # (409), or as out of reach when the first try handed the dossier to another agency (403).
        assert (dossier["status"], dossier["version"]) == (stage.after, version + 1), (stage.name, n, when, died)
        if retried.status_code != 200:
            assert (retried.status_code, retried.json["error"]["code"]) in ALREADY_DONE, (n, when, died, retried.json)
    audit(aws_env)


# --- the VNPay IPN ----------------------------------------------------------------------

def test_an_ipn_crashing_at_any_aws_call_confirms_the_payment_once_when_vnpay_retries(flow, aws_env):
    def paid_but_unconfirmed() -> tuple[str, str, dict[str, str]]:
        code = flow.dossier()
        payment_id, params = flow.pay(code)
        return code, payment_id, params

    def one_clean_run() -> list[str]:
        params = paid_but_unconfirmed()[2]
        return calls_of(lambda: flow.ipn(params))

    cases = crash_cases(one_clean_run)
    for n, when in cases:
        code, payment_id, params = paid_but_unconfirmed()
        died = run_crashing(n, when, lambda params=params: flow.ipn(params))
        reply = flow.ipn(params).json["RspCode"]                    # VNPay retries the same IPN
        assert reply in ("00", "02"), (n, when, died, reply)        # 02: confirmed by the first try
        events = [e["type"] for e in store.dossier_events(code)]
        assert events.count("PaymentSucceeded") == 1 and events.count("FeesSettled") == 1, (n, when, died)
        assert flow.payment(payment_id).json["status"] == "succeeded"
        assert flow.dossier_view(code)["amount_paid"] == 200_000
    audit(aws_env)


# --- the outbox publisher -----------------------------------------------------------------

def test_a_publisher_crashing_at_any_call_publishes_everything_when_the_batch_is_redelivered(
        api, aws_env, monkeypatch):
    """Both ways of dying: before/after each PutEvents. The stream redelivers the same batch."""
    monkeypatch.setattr(publisher, "MAX_ENTRIES", 2)
    citizen = api.token("citizen", sub="citizen-crash")
    for i in range(3):                              # 3 events: two PutEvents calls per batch
        submit(api, submission(HOUSE), citizen, key=f"crash-pub-{i:04d}")
    batch = StreamPump(resources.PUBLISHER, settings(), aws_env)._fetch()
    expected = {(d["code"], 1) for d in audit(aws_env)["dossiers"].values()}
    event = {"Records": batch}
    cases = crash_cases(lambda: calls_of(lambda: publisher.handler(event, LambdaContext("outbox-publisher"))))
    tap_events(aws_env)
    for n, when in cases:
        run_crashing(n, when, lambda: publisher.handler(event, LambdaContext("outbox-publisher")))
        assert publisher.handler(event, LambdaContext("outbox-publisher")) == {"batchItemFailures": []}
        published = [(e["detail"]["dossier_code"], e["detail"]["version"]) for e in tap_events(aws_env)]
        assert set(published) == expected, (n, when)                # everything, at least once


# --- a consumer killed mid-call ----------------------------------------------------------

class ShortLivedContext(LambdaContext):
    """A Lambda invocation with little time left: its INPROGRESS record expires with it."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 1000


def test_a_consumer_killed_mid_call_leaves_no_inprogress_record_forever(api, aws_env):
    from handlers import report_projection
    from tests.api.test_consumer import sqs_record

    citizen = api.token("citizen", sub="citizen-crash")
    code = submit(api, submission(HOUSE), citizen, key="crash-consumer-1").json["dossier_code"]
    event = store.dossier_events(code)[0]
    # Die after the idempotency layer wrote INPROGRESS (call 1), during the consumer's own reads.
    run_crashing(2, "before", lambda: report_projection.handler(
        {"Records": [sqs_record(event, "m1")]}, ShortLivedContext("report-projection")))
    # An immediate redelivery finds the record in progress and is retried later, not lost.
    early = report_projection.handler({"Records": [sqs_record(event, "m2")]}, ShortLivedContext("report-projection"))
    assert early == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    time.sleep(1.2)                                                  # the killed invocation's time ran out
    late = report_projection.handler({"Records": [sqs_record(event, "m3")]}, ShortLivedContext("report-projection"))
    assert late == {"batchItemFailures": []}
    from chalicelib.reports.store import counters as report_store
    assert report_store.load(code)[1] == 1                            # projected, once
