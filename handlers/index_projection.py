"""766 index projection: keeps the index counters equal to the sum over dossiers' current facts.

EventBridge rule "index-projection" (every event about a dossier: its changes, and
``FeedbackReceived``) -> SQS (+DLQ) -> this consumer; the national sync also calls
``project_code`` once the ledger moves (1.4 changes without a new dossier version).

Per event, three DynamoDB calls: one Query (the dossier's items), one BatchGetItem (its sync
ledger and feedback count, its projection record) and, when the stamp (version, synced, complaint) is newer than
the one projected, one TransactWriteItems with the difference of contributions and the new
record, conditioned on the old stamp. Duplicates and reordered deliveries find nothing newer,
so the counters converge whatever the delivery order.
"""
from __future__ import annotations

from typing import Any

from chalicelib.kernel.working_days import default_calendar
from chalicelib.reports.rules.form06 import diff
from chalicelib.reports.rules.index766 import contributions, facts_from_dossier, newer, stamp
from chalicelib.reports.store import index_counters as index_store
from handlers.consumer import Consumer


def project_code(code: str) -> str:
    for _attempt in range(3):
        loaded = index_store.load(code)
        if loaded.dossier is None:
            return "missing"
        dossier = loaded.dossier
        current = stamp(dossier["version"], loaded.synced, loaded.complaint)
        if not newer(current, loaded.stamp):
            return "up-to-date"
        new = contributions(facts_from_dossier(dossier, synced=loaded.synced, complaint=loaded.complaint,
                                               calendar=default_calendar()))
        here = (dossier["agency_id"], dossier["procedure_code"])
        counted = loaded.counted or here
        changes = [(*here, diff(new, loaded.applied))] if counted == here else \
            [(*counted, diff({}, loaded.applied)), (*here, new)]   # reassigned (merger day): move its counts
        try:
            index_store.apply(code, *here, current, loaded.stamp, new, changes)
            return "projected"
        except index_store.StaleProjection:
            continue  # a concurrent delivery projected first; read again
    raise RuntimeError("index projection kept losing races; the message will be retried")


def project(event: dict[str, Any]) -> str:
    return project_code(event["dossier_code"])


consumer = Consumer("index-projection", project)
handler = consumer.handler
