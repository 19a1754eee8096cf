"""The payment routes' real responses match the schemas documented in openapi.yaml."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.payment_kit import flow, vnpay  # noqa: F401  (fixtures)
from tests.api.test_contract import check


def test_payment_responses_match_the_documented_schemas(flow, dispatcher):
    api = flow.api
    finance = api.token("finance", sub="finance-contract")
    code = flow.dossier()
    created = flow.create(code)
    check("/dossiers/{code}/payments", "post", created)
    check("/dossiers/{code}/payments", "post", flow.create(code))                       # 200: the same one
    check("/dossiers/{code}/payments", "post", flow.create(code, api.token("officer", "x")))  # 403
    payment_id = created.json["payment_id"]
    check("/payments/{payment_id}", "get", flow.payment(payment_id))
    receipt = f"/payments/{payment_id}/receipt"
    check("/payments/{payment_id}/receipt", "get", api.call("GET", receipt, token=flow.citizen))     # 404
    check("/payments/{payment_id}/refunds", "post", api.call("POST", f"/payments/{payment_id}/refunds", token=finance,
                                                             body={"amount": 1, "reason": "x"}))          # 409
    flow.open_page(created.json["pay_url"])
    params = flow.press(payment_id, "success")
    check("/payments/vnpay/ipn", "get", flow.ipn(params))
    check("/payments/vnpay/ipn", "get", flow.ipn("vnp_TxnRef=x"))
    check("/payments/{payment_id}/receipt", "get", api.call("GET", receipt, token=flow.citizen))     # 409: not ready
    dispatcher.drain()
    check("/payments/{payment_id}/receipt", "get", api.call("GET", receipt, token=flow.citizen))     # 200: the link
    check("/dossiers/{code}", "get", api.call("GET", f"/dossiers/{code}", token=flow.citizen))
    check("/payments/{payment_id}", "get", flow.payment(payment_id))
    check("/dossiers/{code}/payments", "post", flow.create(code))                       # 409: paid
    check("/payments/{payment_id}/refunds", "post", api.call("POST", f"/payments/{payment_id}/refunds", token=finance,
                                                             body={"amount": "x"}))       # 422
    refunded = api.call("POST", f"/payments/{payment_id}/refunds", token=finance, body={"amount": 1000, "reason": "x"})
    check("/payments/{payment_id}/refunds", "post", refunded)
    check("/payments/{payment_id}", "get", flow.payment(payment_id, finance))
    check("/finance/refunds/pending", "get", api.call("GET", "/finance/refunds/pending", token=finance))
    day = f"{datetime.now(timezone(timedelta(hours=7))):%Y-%m-%d}"
    check("/finance/reconciliation", "get", api.call("GET", f"/finance/reconciliation?date={day}", token=finance))
    check("/finance/reconciliation", "get", api.call("GET", "/finance/reconciliation?date=x", token=finance))
    check("/finance/reconciliation", "get", api.call("GET", f"/finance/reconciliation?date={day}", token=flow.citizen))
