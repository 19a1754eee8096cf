"""The dossier state machine as data.

``EDGES`` is the only place that says which action may move a dossier from which status.
An action that is not an edge from the current status is refused with 409 and the current
status; nothing is ever silently ignored. Later workflow actions are added as new edges.
"""
from __future__ import annotations

from chalicelib.errors import InvalidTransition

SUBMITTED = "submitted"
ACCEPTED = "accepted"
REFUSED = "refused"

STATUSES: tuple[str, ...] = (SUBMITTED, ACCEPTED, REFUSED)

# (from status, action) -> to status. ``None`` is the status before a dossier exists.
EDGES: dict[tuple[str | None, str], str] = {
    (None, "submit"): SUBMITTED,
    (SUBMITTED, "accept"): ACCEPTED,
    (SUBMITTED, "refuse"): REFUSED,
}

# Every edge emits exactly one event of this type, with the dossier's new version.
EVENT_TYPES: dict[str, str] = {
    "submit": "DossierSubmitted",
    "accept": "DossierAccepted",
    "refuse": "DossierRefused",
}


def next_status(current: str | None, action: str) -> str:
    """The status after ``action``, or InvalidTransition (409) if the graph has no such edge."""
    try:
        return EDGES[(current, action)]
    except KeyError:
        raise InvalidTransition(current or "none", action) from None


def allowed_actions(current: str) -> list[str]:
    return sorted(action for (status, action) in EDGES if status == current)
