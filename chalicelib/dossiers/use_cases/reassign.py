"""Merger day for dossiers: a retired agency's open dossiers move to its successor.

Each move is the transition ``reassign`` through the one pipeline
(chalicelib/dossiers/use_cases/transition.py): the dossier, its ``DossierReassigned`` event and
its audit record in one version-checked transaction. The event reaches every consumer like any
other: the national portal (DongBoHoSoMC with the new DonViXuLy), the citizen's notification,
the report projection. A move is keyed by the plan and the dossier (``source_event_id``), so a
rerun of the plan, even racing a first run, applies it at most once.
"""
from __future__ import annotations

from collections.abc import Iterator

from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.transitions import EDGES
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import transition
from chalicelib.kernel.errors import Conflict
from chalicelib.trust.rules.identity import Identity

# Where a dossier is still with its agency: every status the graph lets ``reassign`` leave.
REASSIGNABLE: tuple[str, ...] = tuple(sorted(status for (status, action) in EDGES
                                             if action == "reassign" and status is not None))


CONCURRENT_RETRIES = 3


def open_dossiers_of(agency_id: str) -> Iterator[Dossier]:
    """The dossiers a retirement must move: still open (or finished but not handed back)."""
    for status in REASSIGNABLE:
        yield from store.dossiers_in_status(agency_id, status)


def move_key(plan_id: str, code: str) -> str:
    """The idempotency key of one move: the plan and the dossier."""
    return f"merger:{plan_id}:{code}"


def reassign(code: str, to_agency_id: str, *, plan_id: str, reason: str, identity: Identity,
             clock: transition.Clock = transition.utc_now) -> Dossier | None:
    """Move one dossier to ``to_agency_id``; None if this plan already moved it."""
    actor = transition.Actor(by=identity.sub, permission="dossier.reassign", source_event_id=move_key(plan_id, code))
    params = {"to_agency_id": to_agency_id, "plan_id": plan_id, "reason": reason}
    for attempt in range(CONCURRENT_RETRIES + 1):
        try:
            return transition.run(code, identity, "reassign", params, actor=actor, clock=clock)
        except transition.AlreadyApplied:
            return None
        except Conflict as conflict:
            if conflict.code == "already_reassigned":
                return None
            # An officer acted on the dossier at the same moment: load it again and move it.
            if conflict.code != "concurrent_update" or attempt == CONCURRENT_RETRIES:
                raise
    return None
