"""Reconciliation that heals: the sweep (missed IPN, expiry, late success) and the daily
finance report with its CSV and XLSX exports."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from chalicelib.payments.use_cases import payments as payment_service
from chalicelib.dossiers.store import dossiers as store
from chalicelib.payments.rules.reconciliation import ProviderRecord
from handlers import reconcile
from motcua import metering
from motcua.cli import main
from motcua.dispatcher import LambdaContext
from tests.api.payment_kit import flow, later, resign, vnpay  # noqa: F401  (fixtures)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def today() -> str:
    return f"{datetime.now(timezone(timedelta(hours=7))):%Y-%m-%d}"


def test_a_lost_ipn_is_healed_by_the_sweep_through_the_ipn_path(flow):
    code = flow.dossier()
    payment_id, params = flow.pay(code, "lose_ipn")
    assert flow.sim.wait_for_ipn(payment_id) == []            # VNPay never called us
    assert flow.payment(payment_id).json["status"] == "pending"
    report = payment_service.sweep(min_age_minutes=0, clock=later(1))
    assert report["checked"] == 1 and report["succeeded"] == 1 and report["provider_calls"] == 1
    payment = flow.payment(payment_id).json
    assert payment["status"] == "succeeded" and payment["provider_txn_id"] == params["vnp_TransactionNo"]
    assert payment["receipt"]["number"] == f"BL-{code}-01"
    assert flow.dossier_view(code)["payment_status"] == "paid"
    assert flow.ipn(params).json["RspCode"] == "02"           # a late IPN is now a replay
    assert payment_service.sweep(min_age_minutes=0, clock=later(1))["checked"] == 0


def test_the_sweep_waits_fifteen_minutes_then_expires_what_was_never_paid(flow):
    code = flow.dossier()
    payment_id = flow.create(code).json["payment_id"]         # page never opened: querydr says 91
    assert reconcile.handler({}, LambdaContext("payments-reconcile"))["checked"] == 0   # too young
    report = payment_service.sweep(clock=later(16))
    assert (report["checked"], report["expired"]) == (1, 1)
    assert flow.payment(payment_id).json["status"] == "expired"
    assert flow.dossier_view(code)["payment_status"] == "unpaid"
    assert [e["type"] for e in store.dossier_events(code)][-1] == "PaymentExpired"


def test_the_sweep_reads_only_pending_payments_through_the_index(flow):
    settled = [flow.paid_dossier()[1] for _ in range(3)]
    pending = flow.create(flow.dossier()).json["payment_id"]
    asked_before = len(flow.sim.api_requests)
    with metering.aws_calls() as calls:
        report = payment_service.sweep(clock=later(5), min_age_minutes=0)
    asked = [r["vnp_TxnRef"] for r in flow.sim.api_requests[asked_before:]]
    assert asked == [pending] and report["provider_calls"] == 1 and settled
    assert calls["dynamodb.Scan"] == 0 and calls["dynamodb.Query"] == 1


def test_a_success_after_expiry_is_recorded_late_and_flagged_never_dropped(flow, aws_env, dispatcher):
    code = flow.dossier()
    created = flow.create(code).json
    flow.open_page(created["pay_url"])
    assert payment_service.sweep(clock=later(16))["expired"] == 1   # querydr: 01, not completed
    params = flow.press(created["payment_id"], "success")            # the citizen paid anyway
    assert flow.ipn(params).json["RspCode"] == "00"
    payment = flow.payment(created["payment_id"], flow.api.token("finance")).json
    assert payment["status"] == "succeeded_late" and payment["late"] is True
    assert payment["finance_flags"] == ["late_success"] and payment["receipt"] is not None
    assert flow.dossier_view(code)["amount_paid"] == 200_000
    succeeded = [e for e in store.dossier_events(code) if e["type"] == "PaymentSucceeded"]
    assert len(succeeded) == 1 and succeeded[0]["data"]["late"] is True
    assert flow.ipn(params).json["RspCode"] == "02"


def test_a_success_after_a_failure_is_recorded_late(flow):
    code = flow.dossier()
    payment_id, cancelled = flow.pay(code, "cancel")
    assert flow.ipn(cancelled).json["RspCode"] == "00"
    reversed_ = resign(cancelled, vnp_ResponseCode="00", vnp_TransactionStatus="00", vnp_TransactionNo="14999999")
    assert flow.ipn(reversed_).json["RspCode"] == "00"
    assert flow.payment(payment_id).json["status"] == "succeeded_late"
    assert flow.ipn(cancelled).json["RspCode"] == "02"          # a stale failure changes nothing


@pytest.fixture
def day_of_payments(flow):
    """Today's ledger: one late (expired by the sweep, then paid), one paid, one paid with its
    IPN lost (not swept yet), one never opened."""
    late = flow.create(flow.dossier()).json
    flow.open_page(late["pay_url"])
    assert payment_service.sweep(clock=later(16))["expired"] == 1
    flow.ipn(flow.press(late["payment_id"], "success"))
    ok = flow.paid_dossier()[1]
    lost = flow.pay(flow.dossier(), "lose_ipn")[0]
    unopened = flow.create(flow.dossier()).json["payment_id"]
    return {"ok": ok, "lost": lost, "late": late["payment_id"], "unopened": unopened}


def test_the_daily_report_lists_each_discrepancy_with_its_category(flow, day_of_payments):
    ids = day_of_payments
    finance = flow.api.token("finance", sub="finance-1")
    response = flow.api.call("GET", f"/finance/reconciliation?date={today()}", token=finance)
    assert response.status_code == 200, response.json
    report = response.json
    assert sorted((d["category"], d["payment_id"]) for d in report["discrepancies"]) == sorted([
        ("late_success", ids["late"]), ("status_mismatch", ids["lost"])])
    assert report["source"] == "querydr" and report["summary"]["app_payments"] == 4 and report["unchecked"] == []
    [agency] = report["totals_by_agency"]
    assert agency["agency_id"] == "000.00.13.H50" and agency["agency_name"].startswith("Sở Tư pháp")
    assert (agency["app_count"], agency["app_amount"], agency["provider_count"], agency["provider_amount"]) \
        == (2, 400_000, 3, 600_000)
    assert [p["procedure_code"] for p in report["totals_by_procedure"]] == ["1.001023"]


def test_a_settlement_file_finds_provider_only_amount_and_app_only(flow):
    ok = flow.paid_dossier()[1]
    other = flow.paid_dossier()[1]
    settlement = [ProviderRecord(ok, True, True, 150_000, "00", "1"),
                  ProviderRecord("MCUNKNOWN0001", True, True, 50_000, "00", "2")]
    report = payment_service.reconciliation_report(today(), settlement)
    found = sorted((d["category"], d["payment_id"]) for d in report["discrepancies"])
    assert found == sorted([("amount_mismatch", ok), ("provider_only", "MCUNKNOWN0001"), ("app_only", other)])
    assert report["source"] == "settlement"


def test_report_exports_to_csv_and_xlsx(flow, day_of_payments):
    finance = flow.api.token("finance", sub="finance-1")
    as_csv = flow.download(f"/finance/reconciliation?date={today()}&format=csv", "text/csv", finance)
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.body.decode())))
    assert {r["section"] for r in rows} == {"discrepancy", "agency_total", "procedure_total"}
    assert any(r["category"] == "late_success" and r["payment_id"] == day_of_payments["late"] for r in rows)
    as_xlsx = flow.download(f"/finance/reconciliation?date={today()}&format=xlsx", "*/*", finance)
    assert as_xlsx.status_code == 200
    book = load_workbook(io.BytesIO(as_xlsx.body))
    assert book.sheetnames == ["Tổng quan", "Chênh lệch", "Theo cơ quan", "Theo thủ tục"]
    assert book["Tổng quan"]["B1"].value == today()
    sheet = book["Chênh lệch"]
    assert sheet["A1"].value == "category" and sheet["A1"].font.bold
    assert any(row[0].value == "late_success" and row[2].value == day_of_payments["late"]
               for row in sheet.iter_rows(min_row=2))
    agencies = book["Theo cơ quan"]
    assert agencies["A2"].value == "000.00.13.H50" and isinstance(agencies["C2"].value, int)


def test_report_is_for_finance_and_validates_its_date(flow):
    assert flow.api.call("GET", f"/finance/reconciliation?date={today()}", token=flow.citizen).status_code == 403
    finance = flow.api.token("finance")
    for bad in ("2026-13-01", "yesterday", "", "2026-02-30"):
        response = flow.api.call("GET", f"/finance/reconciliation?date={bad}", token=finance)
        assert response.status_code == 422 and "date" in response.json["error"]["fields"], bad
    assert flow.api.call("GET", f"/finance/reconciliation?date={today()}&format=pdf", token=finance).status_code == 422


@pytest.fixture
def cli_env(monkeypatch, vnpay):
    monkeypatch.setenv("MOTCUA_AWS_ENDPOINT", "")
    monkeypatch.setenv("MOTCUA_STAGE", "local")
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "http://127.0.0.1:8000")


def test_cli_reconcile_and_report_with_a_settlement_file_in_a_custom_layout(flow, cli_env, tmp_path, capsys):
    lost = flow.pay(flow.dossier(), "lose_ipn")[0]
    assert main(["payments", "reconcile", "--min-age-minutes", "0"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["succeeded"] == 1   # logs may come first
    layout = tmp_path / "layout.json"
    layout.write_text(json.dumps({"delimiter": ";", "reference": "MaGD", "amount": "SoTien", "status": "TrangThai",
                                  "provider_txn_id": "", "amount_scale": 1, "success_values": ["THANHCONG"]}))
    settlement = tmp_path / "vnpay.csv"
    settlement.write_text(f"MaGD;SoTien;TrangThai\n{lost};200000;THANHCONG\nMCFOREIGN01;9000;THANHCONG\n")
    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert main(["payments", "report", "--date", today(), "--settlement", str(settlement), "--layout", str(layout),
                 "--csv", str(out_csv), "--xlsx", str(out_xlsx)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(d["category"], d["payment_id"]) for d in report["discrepancies"]] == [("provider_only", "MCFOREIGN01")]
    assert "MCFOREIGN01" in out_csv.read_text() and load_workbook(out_xlsx)["Chênh lệch"]["C2"].value == "MCFOREIGN01"
    settlement.write_text("MaGD;SoTien;TrangThai\nX;12,5;THANHCONG\n")
    assert main(["payments", "report", "--date", today(), "--settlement", str(settlement), "--layout", str(layout)]) == 2
    assert "line 2" in capsys.readouterr().err
