"""The dossier state machine as data.

``EDGES`` is the only place that says which action may move a dossier from which status.
An action that is not an edge from the current status is refused as InvalidTransition, naming
the current status; nothing is ever silently ignored. Later workflow actions are added as new edges.
``PRECONDITIONS`` says what else an action needs. Both are checked by the one pipeline every
change goes through (chalicelib/dossiers/use_cases/transition.py), whoever the caller is.

The national portal's status codes (TrangThaiHoSo 1–10, domain.md section 3) are mapped
from these statuses by configuration: chalicelib/sync/data/national_status.json.
"""
from __future__ import annotations

from chalicelib.kernel.errors import InvalidTransition

SUBMITTED = "submitted"
ACCEPTED = "accepted"                   # received; the clock runs and step 1 has started
REFUSED = "refused"
PROCESSING = "processing"               # moved on from step 1, resumed, or extended
SUPPLEMENT_REQUESTED = "supplement_requested"   # the clock is paused
WITHDRAWN = "withdrawn"
STOPPED = "stopped"
FINISHED = "finished"                   # result issued (đã xử lý xong)
RETURNED = "returned"                   # result handed to the citizen; closed

STATUSES: tuple[str, ...] = (SUBMITTED, ACCEPTED, REFUSED, PROCESSING, SUPPLEMENT_REQUESTED,
                             WITHDRAWN, STOPPED, FINISHED, RETURNED)

# Statuses in which the agency is working on the dossier with the clock running.
IN_PROGRESS: tuple[str, ...] = (ACCEPTED, PROCESSING)
# Statuses in which the dossier is with the agency at all (clock running or paused).
OPEN: tuple[str, ...] = (*IN_PROGRESS, SUPPLEMENT_REQUESTED)
CLOSED: tuple[str, ...] = (REFUSED, WITHDRAWN, STOPPED, RETURNED)


def _from(statuses: tuple[str, ...], action: str, to: str | None = None) -> dict[tuple[str | None, str], str]:
    """Edges from each of ``statuses``; ``to=None`` keeps the status (a self-loop)."""
    return {(status, action): to or status for status in statuses}


# (from status, action) -> to status. ``None`` is the status before a dossier exists.
EDGES: dict[tuple[str | None, str], str] = {
    (None, "submit"): SUBMITTED,
    (SUBMITTED, "accept"): ACCEPTED,
    (SUBMITTED, "refuse"): REFUSED,
    **_from(IN_PROGRESS, "forward", PROCESSING),
    **_from(IN_PROGRESS, "request_supplement", SUPPLEMENT_REQUESTED),
    (SUPPLEMENT_REQUESTED, "supplement"): PROCESSING,
    **_from(IN_PROGRESS, "extend", PROCESSING),
    **_from(OPEN, "stop", STOPPED),
    **_from((SUBMITTED, *OPEN), "withdraw", WITHDRAWN),
    **_from(IN_PROGRESS, "issue_result", FINISHED),
    (FINISHED, "return_result"): RETURNED,
    **_from((FINISHED, RETURNED), "rate"),
    # Merger day: a dossier still with a retired agency moves to its successor, status kept
    # (chalicelib/catalogue/rules/merger.py). A finished one still has a result to hand over.
    **_from((SUBMITTED, *OPEN, FINISHED), "reassign"),
}

# What an action needs besides an edge from the current status, for every caller (an
# officer, the desk, a ministry system's report).
FEES_PAID = "fees_paid"   # fees paid in full, if the procedure takes them before acceptance (Conflict fees_unpaid)
PRECONDITIONS: dict[str, tuple[str, ...]] = {
    "accept": (FEES_PAID,),
}

# Every edge emits exactly one event of this type, with the dossier's new version.
EVENT_TYPES: dict[str, str] = {
    "submit": "DossierSubmitted",
    "accept": "DossierAccepted",
    "refuse": "DossierRefused",
    "forward": "DossierForwarded",
    "request_supplement": "DossierSupplementRequested",
    "supplement": "DossierSupplemented",
    "extend": "DossierExtended",
    "stop": "DossierStopped",
    "withdraw": "DossierWithdrawn",
    "issue_result": "DossierResultIssued",
    "return_result": "DossierResultReturned",
    "rate": "DossierRated",
    "reassign": "DossierReassigned",
}


def next_status(current: str | None, action: str) -> str:
    """The status after ``action``, or InvalidTransition if the graph has no such edge."""
    try:
        return EDGES[(current, action)]
    except KeyError:
        raise InvalidTransition(current or "none", action) from None


def allowed_actions(current: str) -> list[str]:
    return sorted(action for (status, action) in EDGES if status == current)
