"""Refund watch: a dossier that is not served (refused, withdrawn, stopped) and holds fees goes
on the finance desk's to-refund list.

Fed by DossierRefused, DossierWithdrawn and DossierStopped events (rule "refund-watch" in
chalicelib.runtime.resources). It reads the dossier as it is now and records what the dossier
owes back, conditioned on the dossier version so that an older view never overwrites a newer
one written by a payment transition.
"""
from __future__ import annotations

from datetime import datetime, UTC
from typing import Any

from chalicelib.payments.store import payments as payment_store
from chalicelib.kernel.working_days import iso, to_local
from chalicelib.runtime.tables import get_dossier
from chalicelib.payments.rules.ledger import refund_owed
from chalicelib.payments.rules.payments import refund_due_record
from handlers.consumer import Consumer


def process(event: dict[str, Any]) -> bool:
    """True if the dossier was (re)listed; nothing to do when it owes nothing."""
    dossier = get_dossier(event["dossier_code"])
    if dossier is None or refund_owed(dossier) == 0:
        return False
    record = refund_due_record(dossier, iso(to_local(datetime.now(UTC))))
    return payment_store.put_refund_due_if_newer(dossier["code"], record, dossier["version"])


consumer = Consumer(name="refund-watch", process=process)
handler = consumer.handler
