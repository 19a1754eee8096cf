"""The daily reconciliation without AWS: categories, totals, settlement layouts."""
from __future__ import annotations

import pytest

from chalicelib.payments.rules.reconciliation import ProviderRecord, SettlementLayout, compare, parse_settlement, to_csv
from payments.vnpay import SETTLEMENT_LAYOUT


def app(pid: str, status: str = "succeeded", amount: int = 100, late: bool = False, agency: str = "A",
        procedure: str = "1.000001") -> dict:
    return {"payment_id": pid, "dossier_code": f"D-{pid}", "agency_id": agency, "procedure_code": procedure,
            "status": status, "amount": amount, "late": late}


def paid(pid: str, amount: int = 100) -> ProviderRecord:
    return ProviderRecord(pid, True, True, amount, "00")


def categories(report: dict) -> list[tuple[str, str]]:
    return sorted((d["category"], d["payment_id"]) for d in report["discrepancies"])


def test_each_category_is_found():
    ledger = [app("ok"), app("apponly"), app("amount", amount=100), app("appsays", status="pending"),
              app("late", late=True, status="succeeded_late"), app("never", status="expired")]
    provider = {"ok": paid("ok"), "amount": paid("amount", 90), "appsays": paid("appsays"), "late": paid("late"),
                "never": ProviderRecord("never", False, False, None, ""), "foreign": paid("foreign", 7)}
    report = compare("2026-11-21", ledger, provider, source="querydr")
    assert categories(report) == [("amount_mismatch", "amount"), ("app_only", "apponly"), ("late_success", "late"),
                                  ("provider_only", "foreign"), ("status_mismatch", "appsays")]
    assert report["summary"]["by_category"]["late_success"] == 1


def test_refunded_payments_still_count_as_money_received():
    report = compare("d", [app("r", status="refunded")], {"r": ProviderRecord("r", True, True, 100, "06")},
                     source="querydr")
    assert report["discrepancies"] == []


def test_totals_by_agency_and_procedure_compare_both_sides():
    ledger = [app("a1", agency="A"), app("a2", agency="A", status="pending"), app("b1", agency="B", amount=50)]
    provider = {"a1": paid("a1"), "a2": paid("a2"), "b1": paid("b1", 50)}
    report = compare("d", ledger, provider, source="querydr", agency_names={"A": "Sở A"})
    rows = {t["agency_id"]: (t["app_count"], t["app_amount"], t["provider_count"], t["provider_amount"], t["difference"])
            for t in report["totals_by_agency"]}
    assert rows == {"A": (1, 100, 2, 200, -100), "B": (1, 50, 1, 50, 0)}
    assert report["totals_by_agency"][0]["agency_name"] == "Sở A"
    assert len(report["totals_by_procedure"]) == 2


def test_default_layout_reads_vnpay_amounts_times_100():
    text = "vnp_TxnRef,vnp_Amount,vnp_TransactionStatus,vnp_TransactionNo\nMC1,20000000,00,14000001\nMC2,500,02,0\n"
    assert parse_settlement(text, SettlementLayout.from_mapping(SETTLEMENT_LAYOUT)) == [
        ProviderRecord("MC1", True, True, 200_000, "00", "14000001"), ProviderRecord("MC2", True, False, 5, "02", "0")]


def test_a_headerless_layout_uses_column_positions():
    layout = SettlementLayout(has_header=False, reference="0", amount="2", status="1", provider_txn_id="",
                              amount_scale=1, delimiter="|")
    assert parse_settlement("MC1|00|150000\n", layout) == [ProviderRecord("MC1", True, True, 150_000, "00", None)]


@pytest.mark.parametrize("text,line", [
    ("vnp_TxnRef,vnp_Amount,vnp_TransactionStatus\nMC1,12.5,00\n", "line 2"),
    ("vnp_TxnRef,vnp_Amount,vnp_TransactionStatus\nMC1,100,00\n,100,00\n", "line 3"),
    ("ref,amount\n", "line 1"),
    ("vnp_TxnRef,vnp_Amount,vnp_TransactionStatus\nMC1,150,00\n", "line 2"),   # not a multiple of 100
])
def test_bad_settlement_rows_name_their_line(text, line):
    with pytest.raises(ValueError, match=line):
        parse_settlement(text, SettlementLayout.from_mapping(SETTLEMENT_LAYOUT))


def test_layout_json_refuses_unknown_keys():
    assert SettlementLayout.from_json('{"delimiter": ";", "success_values": ["OK"]}').success_values == ("OK",)
    with pytest.raises(ValueError, match="colour"):
        SettlementLayout.from_json('{"colour": "red"}')


def test_csv_export_is_one_flat_table_with_sections():
    report = compare("2026-11-21", [app("x")], {}, source="querydr")
    lines = to_csv(report).splitlines()
    assert lines[0].startswith("section,date,category")
    assert [line.split(",")[0] for line in lines[1:]] == ["discrepancy", "agency_total", "procedure_total"]


def test_a_layout_file_overrides_the_providers_layout_key_by_key():
    layout = SettlementLayout.from_json('{"delimiter": ";", "amount": "SoTien"}', SETTLEMENT_LAYOUT)
    assert (layout.delimiter, layout.amount, layout.reference, layout.amount_scale) == (";", "SoTien", "vnp_TxnRef", 100)
    assert SettlementLayout.from_mapping({}) == SettlementLayout()   # a provider without a layout: neutral names
