"""Paying a dossier's fees end to end through the app and the VNPay simulator: create, IPN,
return page, read, receipt, gating, events."""
from __future__ import annotations

import io
import json
from datetime import datetime, UTC
from pathlib import Path
from urllib.parse import urlencode

import jsonschema
import requests
from pypdf import PdfReader

from chalicelib.kernel.working_days import parse_iso
from tests.api.payment_kit import (  # noqa: F401  (fixtures)
    FREE_FLOW_PROCEDURE, NO_FEE_PROCEDURE, PAID_PROCEDURE, SECRET, flow, vnpay,
)
from tests.api.test_events import tap_events

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"


def test_create_returns_a_pay_url_for_the_outstanding_fees_and_a_second_call_the_same_payment(flow):
    code = flow.dossier()
    due = flow.dossier_view(code)["amount_due"]
    first = flow.create(code)
    assert first.status_code == 201, first.json
    body = first.json
    assert body["status"] == "pending" and body["amount"] == due == 200_000
    assert body["pay_url"].startswith(flow.sim.base_url + "/paymentv2/vpcpay.html?")
    assert "vnp_Amount=20000000" in body["pay_url"] and SECRET not in body["pay_url"]
    minutes = (parse_iso(body["expires_at"]) - parse_iso(flow.payment(body["payment_id"]).json["created_at"]))
    assert minutes.total_seconds() == 15 * 60
    again = flow.create(code)
    assert again.status_code == 200 and again.json == body
    view = flow.dossier_view(code)
    assert (view["amount_paid"], view["payment_status"]) == (0, "pending")


def test_the_amount_is_never_taken_from_the_client(flow):
    code = flow.dossier()
    response = flow.api.call("POST", f"/dossiers/{code}/payments", token=flow.citizen, body={"amount": 1000})
    assert response.status_code == 201 and response.json["amount"] == 200_000


def test_only_the_owner_may_pay_and_others_see_no_dossier(flow):
    code = flow.dossier()
    stranger = flow.api.token("citizen", sub="someone-else")
    assert flow.create(code, stranger).status_code == 404
    online = flow.api.call("POST", f"/dossiers/{code}/payments", token=flow.officer(code), body={"provider": "vnpay"})
    assert (online.status_code, online.json["error"]["code"]) == (403, "online_payment_citizen_only")
    assert flow.create("000.00.13.H50-261121-9999").json["error"]["code"] == "dossier_not_found"


def test_nothing_to_pay_is_409_in_vietnamese(flow):
    free = flow.dossier(NO_FEE_PROCEDURE)
    response = flow.create(free)
    assert response.status_code == 409 and response.json["error"]["code"] == "no_fees_due"
    code, _ = flow.paid_dossier()
    paid = flow.create(code)
    assert paid.status_code == 409
    assert paid.json["error"]["code"] == "fees_already_paid" and "thanh toán đủ" in paid.json["error"]["message"]


def test_ipn_success_marks_the_payment_paid_once_and_the_dossier_shows_it(flow):
    code = flow.dossier()
    payment_id, params = flow.pay(code)
    assert flow.payment(payment_id).json["status"] == "pending"
    assert flow.ipn(params).json == {"RspCode": "00", "Message": "Confirm Success"}
    payment = flow.payment(payment_id).json
    assert payment["status"] == "succeeded" and payment["pay_url"] is None
    assert payment["provider_txn_id"] == params["vnp_TransactionNo"]
    assert payment["receipt"]["number"] == f"BL-{code}-01"
    view = flow.dossier_view(code)
    assert (view["amount_due"], view["amount_paid"], view["payment_status"]) == (200_000, 200_000, "paid")
    assert flow.ipn(params).json == {"RspCode": "02", "Message": "Order already confirmed"}
    assert flow.dossier_view(code)["amount_paid"] == 200_000


def test_a_cancelled_payment_fails_and_a_new_one_can_be_started(flow):
    code = flow.dossier()
    payment_id, params = flow.pay(code, "cancel")
    assert flow.ipn(params).json["RspCode"] == "00"
    assert flow.payment(payment_id).json["status"] == "failed"
    assert flow.dossier_view(code)["payment_status"] == "unpaid"
    retry = flow.create(code)
    assert retry.status_code == 201 and retry.json["payment_id"] != payment_id


def test_return_page_tells_the_ledger_state_and_never_changes_it(flow):
    code = flow.dossier()
    payment_id, params = flow.pay(code)
    query = urlencode(params)
    confirming = flow.return_page(query)
    assert confirming.status_code == 200 and confirming.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Đang xác nhận thanh toán" in confirming.body.decode()
    assert flow.payment(payment_id).json["status"] == "pending"
    flow.ipn(params)
    paid = flow.return_page(query).body.decode()
    assert "Thanh toán thành công" in paid and payment_id in paid and "200.000 đ" in paid
    tampered = flow.return_page(query.replace("vnp_Amount=20000000", "vnp_Amount=100"))
    assert tampered.status_code == 400 and "Không xác thực" in tampered.body.decode()


def test_return_page_after_a_cancel_says_failed(flow):
    code = flow.dossier()
    _, params = flow.pay(code, "cancel")
    page = flow.return_page(params)
    assert "Thanh toán không thành công" in page.body.decode()


def test_payment_is_read_by_owner_agency_officers_and_finance_only(flow):
    code, payment_id = flow.paid_dossier()
    api = flow.api
    assert flow.payment(payment_id).status_code == 200
    assert flow.payment(payment_id, flow.officer(code)).status_code == 200
    assert flow.payment(payment_id, api.token("finance", sub="finance-1")).status_code == 200
    assert flow.payment(payment_id, api.token("officer", "000.21.30.H50")).status_code == 404
    assert flow.payment(payment_id, api.token("citizen", sub="other")).status_code == 404
    assert flow.payment("X" * 5000).status_code == 404


def receipt_link(flow, payment_id: str, token: str | None = None):
    return flow.api.call("GET", f"/payments/{payment_id}/receipt", token=token or flow.citizen)


def test_receipt_pdf_is_drawn_by_its_consumer_and_downloaded_through_a_short_lived_link(flow, dispatcher):
    code, payment_id = flow.paid_dossier()
    payment = flow.payment(payment_id).json
    not_yet = receipt_link(flow, payment_id)
    assert not_yet.status_code == 409 and not_yet.json["error"]["code"] == "receipt_not_ready"
    assert "thử lại" in not_yet.json["error"]["message"]
    dispatcher.drain()   # PaymentSucceeded: outbox -> bus -> receipts queue -> handlers.receipts -> S3
    link = receipt_link(flow, payment_id)
    number = payment["receipt"]["number"]
    assert link.status_code == 200 and (link.json["number"], link.json["file_name"]) == (number, f"{number}.pdf")
    ttl = (parse_iso(link.json["expires_at"]) - datetime.now(UTC)).total_seconds()
    assert 290 <= ttl <= 300
    download = requests.get(link.json["url"], timeout=5)   # no token: the signature is the permission
    assert download.status_code == 200 and download.headers["Content-Type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in download.headers["Content-Disposition"]
    text = PdfReader(io.BytesIO(download.content)).pages[0].extract_text()
    for needle in ("BIÊN LAI THU PHÍ, LỆ PHÍ", number, "Nguyễn Văn An",
                   "Phí cung cấp thông tin lý lịch tư pháp", "200.000 đ", payment["provider_txn_id"], code,
                   "SỞ TƯ PHÁP"):
        assert needle in text, needle
    paid_at = parse_iso(payment["paid_at"])
    assert f"{paid_at:%d/%m/%Y}" in text
    assert receipt_link(flow, payment_id, flow.officer(code)).status_code == 200
    assert receipt_link(flow, payment_id, flow.api.token("citizen", sub="other")).status_code == 404


def test_a_redelivered_payment_event_stores_the_same_receipt_bytes(flow, aws_env, dispatcher):
    from chalicelib.dossiers.store.attachments import bucket
    from chalicelib.payments.store.receipts import object_key
    from handlers import receipts

    _, payment_id = flow.paid_dossier()
    dispatcher.drain()
    s3 = aws_env.client("s3")
    stored = s3.get_object(Bucket=bucket(), Key=object_key(payment_id))["Body"].read()
    assert receipts.process({"id": "another-envelope", "type": "PaymentSucceeded", "data": {"payment_id": payment_id}})
    assert s3.get_object(Bucket=bucket(), Key=object_key(payment_id))["Body"].read() == stored


def test_no_receipt_before_success(flow):
    code = flow.dossier()
    payment_id = flow.create(code).json["payment_id"]
    response = receipt_link(flow, payment_id)
    assert response.status_code == 404 and response.json["error"]["code"] == "receipt_not_found"


def test_pay_before_accept_blocks_acceptance_until_paid(flow):
    code = flow.dossier(PAID_PROCEDURE)
    officer = flow.officer(code)
    refused = flow.api.call("POST", f"/dossiers/{code}/accept", token=officer)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "fees_unpaid"
    assert "nộp đủ phí, lệ phí trước khi tiếp nhận" in refused.json["error"]["message"]
    _, params = flow.pay(code)
    flow.ipn(params)
    assert flow.api.call("POST", f"/dossiers/{code}/accept", token=officer).status_code == 200


def test_procedures_without_the_setting_accept_unpaid_dossiers(flow):
    code = flow.dossier(FREE_FLOW_PROCEDURE)
    assert flow.api.call("POST", f"/dossiers/{code}/accept", token=flow.officer(code)).status_code == 200


def test_payment_events_reach_the_bus_in_dossier_order_and_match_their_schemas(flow, aws_env, dispatcher):
    code, payment_id = flow.paid_dossier()
    dispatcher.drain()
    details = [e["detail"] for e in tap_events(aws_env) if e["detail"]["dossier_code"] == code]
    assert [(d["type"], d["version"]) for d in details] == [
        ("DossierSubmitted", 1), ("PaymentCreated", 2), ("PaymentSucceeded", 3), ("FeesSettled", 4)]
    assert details[2]["data"]["payment_id"] == payment_id and details[2]["data"]["late"] is False
    text = json.dumps(details, ensure_ascii=False)
    assert "Nguyễn Văn An" not in text and SECRET not in text
    for detail in details:
        schema = json.loads((SCHEMAS / f"{detail['type']}.v1.json").read_text())
        jsonschema.validate(detail, schema, format_checker=jsonschema.FormatChecker())


def test_a_provider_refusing_to_create_is_502_without_retry_after_and_leaves_nothing_behind(flow):
    from chalicelib.payments.adapters import providers as payment_config
    from payments.fake import FakeProvider
    from payments import ProviderRejected

    fake = FakeProvider(clock=lambda: datetime.now(UTC))
    payment_config.use_provider(fake)
    code = flow.dossier()
    version = flow.dossier_view(code)["version"]
    fake.fail_next(1, ProviderRejected("99", "refused"))
    refused = flow.create(code)
    assert refused.status_code == 502 and "Retry-After" not in refused.headers
    assert refused.json["error"]["code"] == "payment_provider_error" and refused.json["error"]["retryable"]
    assert flow.dossier_view(code)["version"] == version


def test_a_provider_outage_on_create_is_503_retryable_and_leaves_nothing_behind(flow):
    from chalicelib.payments.adapters import providers as payment_config
    from payments.fake import FakeProvider
    from payments import ProviderUnavailable

    fake = FakeProvider(clock=lambda: datetime.now(UTC))
    payment_config.use_provider(fake)
    code = flow.dossier()
    version = flow.dossier_view(code)["version"]
    fake.fail_next(1, ProviderUnavailable("HTTP 502 from the gateway"))
    failed = flow.create(code)
    assert failed.status_code == 503
    assert failed.json["error"]["code"] == "payment_provider_unavailable" and failed.json["error"]["retryable"]
    view = flow.dossier_view(code)
    assert (view["version"], view["payment_status"]) == (version, "unpaid")
    retry = flow.create(code)
    assert retry.status_code == 201 and retry.json["pay_url"].startswith("https://fake-pay.invalid/pay/")
    assert [call[0] for call in fake.calls] == ["create_payment", "create_payment"]
