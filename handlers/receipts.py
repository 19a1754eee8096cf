"""Receipts: draw a succeeded payment's receipt PDF and store it for the API to hand out.

Fed by PaymentSucceeded events (rule "receipts" in chalicelib.runtime.resources; late successes
carry the same type). The receipt record was fixed in the payment when it succeeded, so the
PDF is drawn from the payment as stored and is the same whenever and however often it is
drawn: a duplicate or re-delivered event overwrites the object with identical bytes.

This consumer runs from its own deployment package (resources ``bundle``), the only one that
ships receipt_pdf and fpdf2; nothing else may import it.
"""
from __future__ import annotations

from typing import Any

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.payments.store import payments as payment_store
from chalicelib.payments.store import receipts as receipt_files
from chalicelib.payments.rules.transitions import EVENT_TYPES, SUCCEEDED
from handlers.consumer import Consumer
from receipt_pdf import render_pdf

RECEIPT_EVENT = EVENT_TYPES[SUCCEEDED]


def process(event: dict[str, Any]) -> bool:
    """True when a receipt was stored; other events and payments without a receipt are skipped."""
    payment_id = (event.get("data") or {}).get("payment_id")
    if event.get("type") != RECEIPT_EVENT or not payment_id:
        return False
    payment = payment_store.get_payment(payment_id)
    record = payment.get("receipt") if payment else None
    if not record:
        consumer.logger.warning("no receipt to draw", extra={"payment_id": payment_id})
        return False
    receipt_files.store(record, render_pdf(record, catalogue.agency_name(record["agency_id"])))
    return True


consumer = Consumer(name="receipts", process=process)
handler = consumer.handler
