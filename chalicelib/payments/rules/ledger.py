"""The dossier's payment ledger as everyone else reads it: what it owes, what it holds, whether
it may be paid or accepted. Pure, and apart from the payment rules so that a dossier read
(GET /dossiers, a submission, the national record, the reports) needs no provider types:
the provider package stays off the submit path (docs/benchmarks.md, API cold start).

The ledger lives under ``dossier["payment"]``: the money held (``amount_paid``), the payment
in progress (``pending``), the receipts issued and a short history. Money is integer VND.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.errors import Conflict
from chalicelib.kernel.working_days import parse_iso

# Dossier statuses in which the province serves the dossier no further: it takes no new
# payment, and the fees it holds go on the finance desk's to-refund list (issue 18: a
# withdrawn dossier took a payment and its fees were listed nowhere). Whether a fee already
# spent on work done is kept is the finance desk's decision when it reviews the line.
NOT_SERVED: frozenset[str] = frozenset({"refused", "withdrawn", "stopped"})
# Dossier statuses in which the citizen may not start a payment.
NOT_PAYABLE: frozenset[str] = NOT_SERVED
_NOT_PAYABLE_MESSAGES = {
    "refused": "Hồ sơ đã bị từ chối tiếp nhận nên không thể thanh toán phí, lệ phí.",
    "withdrawn": "Hồ sơ đã được rút nên không thể thanh toán phí, lệ phí.",
    "stopped": "Hồ sơ đã bị dừng xử lý nên không thể thanh toán phí, lệ phí.",
}


def vnd(amount: int) -> str:
    """``150000`` -> ``150.000 đ``, as Vietnamese documents write money."""
    return f"{amount:,}".replace(",", ".") + " đ"


# --- the dossier's ledger -------------------------------------------------------------------

def ledger(dossier: Mapping[str, Any]) -> dict[str, Any]:
    """The dossier's payment ledger (a dossier from before payments existed has an empty one)."""
    return dict(dossier.get("payment") or {"amount_paid": 0, "pending": None, "receipts_issued": 0, "payments": []})


def amount_paid(dossier: Mapping[str, Any]) -> int:
    return int(ledger(dossier)["amount_paid"])


def outstanding(dossier: Mapping[str, Any]) -> int:
    return max(0, int(dossier["amount_due"]) - amount_paid(dossier))


def refund_owed(dossier: Mapping[str, Any]) -> int:
    """Money the dossier holds beyond what it may keep: all of it if the dossier is not served
    (refused, withdrawn, stopped), else the excess."""
    keep = 0 if dossier["status"] in NOT_SERVED else int(dossier["amount_due"])
    return max(0, amount_paid(dossier) - keep)


def live_pending(dossier: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The payment in progress, unless its pay window has closed."""
    pending = ledger(dossier).get("pending")
    if pending and parse_iso(pending["expires_at"]) > now:
        return pending
    return None


def payment_status(dossier: Mapping[str, Any], now: datetime) -> str:
    due, paid = int(dossier["amount_due"]), amount_paid(dossier)
    if due == 0 and paid == 0:
        return "not_required"
    if paid > due:
        return "overpaid"
    if paid == due:
        return "paid"
    if live_pending(dossier, now):
        return "pending"
    return "partially_paid" if paid else "unpaid"


def payment_fields(dossier: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """What GET /dossiers/{code} adds about money."""
    return {"amount_due": dossier["amount_due"], "amount_paid": amount_paid(dossier),
            "payment_status": payment_status(dossier, now)}


def require_paid_before_accept(dossier: Mapping[str, Any], pay_before_accept: bool) -> None:
    """Gating: a procedure that wants fees first cannot be accepted with money still owed."""
    owed = outstanding(dossier)
    if pay_before_accept and owed > 0:
        raise Conflict(
            f"Thủ tục này yêu cầu nộp đủ phí, lệ phí trước khi tiếp nhận hồ sơ. Hồ sơ còn thiếu {vnd(owed)}; "
            "vui lòng chờ người nộp thanh toán xong rồi tiếp nhận.",
            code="fees_unpaid", extra={"amount_due": dossier["amount_due"], "amount_paid": amount_paid(dossier)},
        )


def require_payable(dossier: Mapping[str, Any]) -> int:
    """The amount a new payment must ask for; 409 when there is nothing to pay."""
    if dossier["status"] in NOT_PAYABLE:
        raise Conflict(_NOT_PAYABLE_MESSAGES[dossier["status"]],
                       code="dossier_not_payable", extra={"current_status": dossier["status"]})
    if int(dossier["amount_due"]) == 0:
        raise Conflict("Thủ tục này không thu phí, lệ phí.", code="no_fees_due")
    owed = outstanding(dossier)
    if owed == 0:
        raise Conflict("Hồ sơ đã được thanh toán đủ phí, lệ phí.", code="fees_already_paid",
                       extra={"amount_paid": amount_paid(dossier)})
    return owed
