"""Report projection: keeps the form-06 counters equal to the sum over dossiers' current facts.

Each event only says "dossier X changed". The handler reads the dossier (one Query of its
items) and its projection record (one GetItem), and if the dossier's version is newer than the one projected,
writes the difference of contributions plus the new record in one conditional transaction
(one TransactWriteItems). Duplicates and late, reordered deliveries find nothing newer to
project, so counts converge whatever the delivery order. A dossier reassigned to another
agency (merger day) takes its whole contribution along: withdrawn from the agency it was
counted under, added to its new one, in the same transaction.
"""
from __future__ import annotations

from typing import Any

from chalicelib.reports.store import counters as report_store
from chalicelib.reports.rules.form06 import STORED_VIEWS, diff, projection_step, stored_contributions
from handlers.consumer import Consumer


def project(event: dict[str, Any]) -> str:
    for _attempt in range(3):
        dossier, applied_version, applied, counted = report_store.load(event["dossier_code"])
        if dossier is None:
            return "missing"
        moved = counted is not None and counted != dossier["agency_id"]
        new = stored_contributions(dossier)
        steps = {view: projection_step(applied_version, {} if moved else applied[view], dossier["version"], new[view])
                 for view in STORED_VIEWS}
        ready = {view: step for view, step in steps.items() if step is not None}
        if len(ready) != len(steps):
            return "up-to-date"
        withdrawn = (str(counted), {view: diff({}, applied[view]) for view in STORED_VIEWS}) if moved else None
        try:
            report_store.apply(dossier, dossier["version"], applied_version,
                               {view: step[0] for view, step in ready.items()},
                               {view: step[1] for view, step in ready.items()}, withdrawn=withdrawn)
            return "projected"
        except report_store.StaleProjection:
            continue  # a concurrent delivery projected first; read again
    raise RuntimeError("projection kept losing races; the message will be retried")


consumer = Consumer("report-projection", project)
handler = consumer.handler
