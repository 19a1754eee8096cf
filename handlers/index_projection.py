"""766 index projection: keeps the index counters equal to the sum over dossiers' current facts.

Called by the report-projection consumer for every event about a dossier (dossier changes and
``FeedbackReceived``), and by the national sync once the ledger moves (1.4 changes without a
new dossier version). It reads the dossier with its sync ledger (one BatchGetItem), the
feedback count on the dossier and the projection record, and, when the stamp (version, synced,
complaint) is newer than the one projected, writes the difference of contributions and the new
record in one transaction conditioned on the old stamp. Duplicates and reordered deliveries
find nothing newer, so the counters converge whatever the delivery order.
"""
from __future__ import annotations

from chalicelib.feedback.store import feedback as feedback_store
from chalicelib.kernel.working_days import default_calendar
from chalicelib.reports.rules.form06 import diff
from chalicelib.reports.rules.index766 import contributions, facts_from_dossier, newer, stamp
from chalicelib.reports.store import index_counters as index_store
from chalicelib.sync.store import sync_ledger as sync_store


def project_code(code: str) -> str:
    for _attempt in range(3):
        dossier, ledger = sync_store.read(code)
        if dossier is None:
            return "missing"
        synced = ledger is not None and ledger.version >= 1
        complaint = feedback_store.complaints_about(code) > 0
        current = stamp(dossier["version"], synced, complaint)
        applied_stamp, applied = index_store.load(code)
        if not newer(current, applied_stamp):
            return "up-to-date"
        new = contributions(facts_from_dossier(dossier, synced=synced, complaint=complaint,
                                               calendar=default_calendar()))
        try:
            index_store.apply(code, dossier["agency_id"], dossier["procedure_code"], current, applied_stamp,
                              new, diff(new, applied))
            return "projected"
        except index_store.StaleProjection:
            continue  # a concurrent delivery projected first; read again
    raise RuntimeError("index projection kept losing races; the message will be retried")
