"""GET /reports/payments: collected, refunded and outstanding fees per agency or procedure."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.payment_kit import FREE_FLOW_PROCEDURE, PAID_PROCEDURE, flow, vnpay  # noqa: F401

TODAY = datetime.now(timezone(timedelta(hours=7))).date()


def test_payment_report_sums_collected_and_outstanding_in_integer_vnd(api, flow):
    paid = flow.dossier(PAID_PROCEDURE)
    unpaid = flow.dossier(FREE_FLOW_PROCEDURE)
    _, params = flow.pay(paid)
    assert flow.ipn(params).json == {"RspCode": "00", "Message": "Confirm Success"}
    response = api.call("GET", f"/reports/payments?from={TODAY}&to={TODAY}&group_by=procedure", token=api.token("finance"))
    assert response.status_code == 200, response.json
    rows = {r["procedure_code"]: r for r in response.json["rows"]}
    assert rows[PAID_PROCEDURE]["collected"] == 200_000 and rows[PAID_PROCEDURE]["outstanding"] == 0
    assert rows[FREE_FLOW_PROCEDURE]["collected"] == 0 and rows[FREE_FLOW_PROCEDURE]["outstanding"] == 1_000_000
    assert response.json["total"] == {"collected": 200_000, "refunded": 0, "outstanding": 1_000_000, "payments": 1}
    assert all(isinstance(v, int) for r in response.json["rows"] for k, v in r.items() if k not in ("procedure_code", "name"))
    assert unpaid


def test_payment_report_refuses_field_grouping_and_foreign_agencies(api):
    query = f"from={TODAY}&to={TODAY}"
    assert api.call("GET", f"/reports/payments?{query}&group_by=field", token=api.token("finance")).status_code == 422
    year_one = api.call("GET", "/reports/payments?from=0001-01-01&to=0001-01-07&group_by=agency", token=api.token("finance"))
    assert year_one.status_code == 422 and "from" in year_one.json["error"]["fields"]   # once a 500 (date underflow)
    officer = api.token("officer", "000.00.13.H50")
    assert api.call("GET", f"/reports/payments?{query}&group_by=agency&agency_id=000.00.15.H50", token=officer).status_code == 403
