"""Notifications: SMS through SNS and email through SES (moto), Zalo through the loopback ZNS
simulator; at most once per event per channel; everything also lands in the sink."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings
from handlers import notifications
from motcua.dispatcher import LambdaContext
from tests.api.test_consumer import sqs_record
from tests.api.test_intake import submission, submit
from tests.api.test_workflow import HOUSE, act, new_accepted, officer


def sink(simulators) -> list[dict]:
    path = Path(simulators.sink)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def sent_sms() -> list[tuple[str, str]]:
    backend = sns_backends[DEFAULT_ACCOUNT_ID][settings().region]
    return [(phone, text) for phone, text, *_ in backend.sms_messages.values()]


def sent_email() -> list:
    return ses_backends[DEFAULT_ACCOUNT_ID][settings().region].sent_messages


def test_each_event_reaches_every_chosen_channel_in_vietnamese(api, aws_env, dispatcher, simulators):
    code, _, _dossier = new_accepted(api, notify=["sms", "zalo", "email"])
    dispatcher.drain()
    lines = sink(simulators)
    assert sorted((r["event_type"], r["channel"]) for r in lines) == sorted(
        (t, c) for t in ("DossierSubmitted", "DossierAccepted") for c in ("sms", "zalo", "email"))
    accepted = next(r for r in lines if r["event_type"] == "DossierAccepted" and r["channel"] == "sms")
    assert "đã được Ủy ban nhân dân phường Kon Tum tiếp nhận" in accepted["text"] and code in accepted["text"]
    assert ("+84912345678", accepted["text"]) in sent_sms()
    email = next(m for m in sent_email() if "tiếp nhận" in m.subject)
    assert email.destinations["ToAddresses"] == ["an@example.com"] and code in email.body
    zalo = simulators.zalo.state()["messages"]
    assert {m["phone"] for m in zalo} == {"84912345678"} and {m["template_id"] for m in zalo} == {"410001", "410002"}
    assert next(m for m in zalo if m["template_id"] == "410002")["template_data"]["code"] == code


def test_sms_is_the_default_and_email_needs_an_address(api, aws_env, dispatcher, simulators):
    citizen = api.token("citizen", sub="citizen-default")
    submit(api, submission(HOUSE), citizen, key="notify-0001")
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["sms"]
    body = submission(HOUSE, notify=["email", "fax"])
    body["applicant"].pop("email")
    refused = submit(api, body, citizen, key="notify-0002")
    assert refused.status_code == 422 and "notify" in refused.json["error"]["fields"]


def test_a_failing_channel_is_retried_alone_and_nothing_is_sent_twice(api, aws_env, dispatcher, simulators):
    simulators.zalo.control({"fail": 1})
    citizen = api.token("citizen", sub="citizen-retry")
    code = submit(api, submission(HOUSE, notify=["sms", "zalo"]), citizen, key="notify-0003").json["dossier_code"]
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["sms"]            # zalo failed, will be retried
    import time
    time.sleep(1.1)                                                       # the shortened backoff
    dispatcher.drain()
    assert sorted(r["channel"] for r in sink(simulators)) == ["sms", "zalo"]
    # the same event delivered again (a redrive, a publisher re-send): nothing new
    event = store.dossier_events(code)[0]
    record = sqs_record(event, "again-1")
    assert notifications.handler({"Records": [record]}, LambdaContext("notifications")) == {"batchItemFailures": []}
    assert notifications.process(event) == {"sent": []}                  # even past the idempotency layer
    assert len(sink(simulators)) == 2 and len(sent_sms()) == 1


def test_the_apology_letter_tells_the_old_and_new_due_dates(api, aws_env, dispatcher, simulators):
    from chalicelib.kernel.working_days import default_calendar, parse_iso, to_local
    code, _, dossier = new_accepted(api, notify=["email"])
    due = to_local(parse_iso(dossier["due_at"]))
    new_due = default_calendar().add_working_days(due.date(), 2)
    assert act(api, code, officer(api), "extend", reason="Chờ ý kiến Sở Xây dựng",
               new_due_date=new_due.isoformat()).status_code == 200
    dispatcher.drain()
    letter = next(r for r in sink(simulators) if r["event_type"] == "DossierExtended")
    assert letter["subject"].startswith("Thư xin lỗi")
    assert f"{due:%d/%m/%Y} 17:00" in letter["text"] and f"{new_due:%d/%m/%Y} 17:00" in letter["text"]
    assert "Chờ ý kiến Sở Xây dựng" in letter["text"]


def test_reordered_events_are_each_told_as_they_happened(api, aws_env, simulators):
    code, _, _ = new_accepted(api)
    api.call("POST", f"/dossiers/{code}/forward", token=officer(api), body={"to_step": 2})
    _submitted, accepted, forwarded = store.dossier_events(code)
    assert notifications.process(forwarded)["sent"] == ["sms"]      # the newest first
    assert notifications.process(accepted)["sent"] == ["sms"]
    texts = {r["event_type"]: r["text"] for r in sink(simulators)}
    assert "Lấy ý kiến Sở Xây dựng" in texts["DossierForwarded"]
    assert "tiếp nhận" in texts["DossierAccepted"]


def test_a_phone_without_zalo_is_told_by_sms_once_and_zalo_is_not_retried(api, aws_env, dispatcher, simulators):
    """ZNS -118 (no Zalo account) is permanent: it was retried until the DLQ (issue 18). Now
    the Zalo delivery is marked undeliverable and the citizen, who gave a phone, gets an SMS."""
    simulators.zalo.control({"no_account": ["84912345678"]})
    citizen = api.token("citizen", sub="citizen-nozalo")
    code = submit(api, submission(HOUSE, notify=["zalo"]), citizen, key="notify-0101").json["dossier_code"]
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["sms"]
    assert len(sent_sms()) == 1 and code in sent_sms()[0][1]
    assert simulators.zalo.state()["messages"] == []
    event = store.dossier_events(code)[0]
    assert notifications.process(event) == {"sent": []}                  # a redelivery sends nothing more
    assert len(sent_sms()) == 1


def test_a_transient_zalo_failure_is_still_retried_not_replaced_by_sms(api, aws_env, dispatcher, simulators):
    simulators.zalo.control({"fail": 1})
    citizen = api.token("citizen", sub="citizen-zalo-retry")
    submit(api, submission(HOUSE, notify=["zalo"]), citizen, key="notify-0102")
    dispatcher.drain()
    assert sink(simulators) == [] and sent_sms() == []
    import time
    time.sleep(1.1)
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["zalo"] and sent_sms() == []


def test_zalo_template_parameters_are_cut_to_their_limits(api, aws_env, dispatcher, simulators):
    """A refusal reason of 2,000 characters was sent whole; ZNS refuses a parameter longer
    than its type allows (-112), so each is cut to the templates file's limit."""
    from chalicelib.sync.rules.notifications import zalo_types
    from chalicelib.sync.rules.zns import PARAMETER_TYPES
    citizen = api.token("citizen", sub="citizen-zalo-long")
    code = submit(api, submission(HOUSE, notify=["zalo"]), citizen, key="notify-0103").json["dossier_code"]
    reason = "Hồ sơ thiếu bản vẽ mặt bằng công trình có xác nhận của đơn vị tư vấn thiết kế. " * 20
    refused = api.call("POST", f"/dossiers/{code}/refuse", token=officer(api), body={"reason": reason})
    assert refused.status_code == 200
    dispatcher.drain()
    [message] = [m for m in simulators.zalo.state()["messages"] if m["template_id"] == "410003"]
    limit = PARAMETER_TYPES[zalo_types()["reason"]].limit
    assert len(message["template_data"]["reason"]) == limit and message["template_data"]["reason"].endswith("…")
    assert reason.startswith(message["template_data"]["reason"][:-1])


def test_zalo_gets_times_hour_first_as_its_time_type_takes_them(api, aws_env, dispatcher, simulators):
    """ZNS's "Thời gian" takes hh:mm dd/mm/yyyy; the dd/mm/yyyy HH:MM of the SMS text was
    sent as is, and ZNS refuses it as invalid template data."""
    new_accepted(api, notify=["sms", "zalo"])
    dispatcher.drain()
    [accepted] = [m for m in simulators.zalo.state()["messages"] if m["template_id"] == "410002"]
    assert re.fullmatch(r"[0-9]{2}:[0-9]{2} [0-9]{2}/[0-9]{2}/[0-9]{4}", accepted["template_data"]["due"])
    sms = next(r["text"] for r in sink(simulators) if r["event_type"] == "DossierAccepted" and r["channel"] == "sms")
    hour, date = accepted["template_data"]["due"].split(" ")
    assert f"{date} {hour}" in sms


@pytest.mark.parametrize("error", [-131, -115, -144, -139, -1121])
def test_a_zns_refusal_no_retry_changes_goes_by_sms_at_once(api, aws_env, dispatcher, simulators, error):
    """Template not approved, balance spent, daily limit, the user refused this kind of ZNS,
    a parameter too long: each was retried until the DLQ, the citizen told nothing."""
    simulators.zalo.control({"refuse": [error]})
    citizen = api.token("citizen", sub=f"citizen-zns{error}")
    code = submit(api, submission(HOUSE, notify=["zalo"]), citizen, key=f"notify-02{-error}").json["dossier_code"]
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["sms"] and code in sent_sms()[0][1]
    assert simulators.zalo.state()["messages"] == [] and simulators.zalo.state()["hooks"]["refuse"] == []


def test_an_unknown_zns_error_is_retried_not_replaced_by_sms(api, aws_env, dispatcher, simulators):
    simulators.zalo.control({"refuse": [-100]})
    citizen = api.token("citizen", sub="citizen-zns-unknown")
    submit(api, submission(HOUSE, notify=["zalo"]), citizen, key="notify-0300")
    dispatcher.drain()
    assert sink(simulators) == [] and sent_sms() == []
    import time
    time.sleep(1.1)
    dispatcher.drain()
    assert [r["channel"] for r in sink(simulators)] == ["zalo"] and sent_sms() == []


def test_a_zns_refusal_of_our_own_account_alarms_and_a_recipients_does_not(api, aws_env, dispatcher, simulators,
                                                                           capsys):
    """A spent balance (-115) sends every Zalo message by SMS until an operator tops it up:
    ``ZaloAccountErrors`` alarms. A citizen without Zalo (-118) is nobody's fault."""
    simulators.zalo.control({"refuse": [-115], "no_account": ["84912345678"]})
    first = api.token("citizen", sub="citizen-zns-balance")
    submit(api, submission(HOUSE, notify=["zalo"]), first, key="notify-0400")
    capsys.readouterr()
    dispatcher.drain()
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [(m["service"], m["ZaloAccountErrors"]) for m in metrics if "ZaloAccountErrors" in m] == [
        ("notifications", [1.0])]
    second = api.token("citizen", sub="citizen-zns-noaccount")
    submit(api, submission(HOUSE, notify=["zalo"]), second, key="notify-0401")
    dispatcher.drain()
    assert not [line for line in capsys.readouterr().out.splitlines() if "ZaloAccountErrors" in line]
    assert len(sent_sms()) == 2
