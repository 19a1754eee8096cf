"""The one pipeline every change of an existing dossier runs through.

load the dossier for the caller (permission) → check → apply → build the event → save the
dossier, its outbox event and its audit record in one version-checked transaction
(chalicelib/dossiers/store/dossiers.py; 409 ``concurrent_update`` if someone else was faster).

``run`` moves a dossier along an edge of the state graph, whoever asks: an officer's
acceptance or refusal (intake), a processing action from the API or the desk (workflow), a
ministry system's report (chalicelib/sync/use_cases/integrations.py, through workflow). The
graph and the action's preconditions (chalicelib/dossiers/rules/transitions.py) are checked
here and nowhere else, so no caller can skip one: the integration path once accepted an
unpaid dossier because only the officer's path checked the fees. ``change`` is the same
sequence for a change that keeps the status (corrections). Only this module calls
``store.save_transition`` (tests/unit/test_transition_pipeline.py checks it).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.dossiers.rules import processing, transitions
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.submission import decide, record_uploader
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store.attachments import missing_uploads
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.kernel.events import dossier_event
from chalicelib.kernel.working_days import default_calendar, iso, to_local
from chalicelib.trust.rules import audit, permissions
from chalicelib.trust.rules.identity import Identity

Clock = Callable[[], datetime]
# Checks the loaded dossier, changes it in place and returns (its event, the caller's answer).
type Step[Result] = Callable[[Dossier, datetime], tuple[dict[str, Any], Result]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Action:
    """How an edge of the graph changes the dossier (chalicelib/dossiers/rules/processing.py).
    Who may run it, and on which dossiers, is the permission matrix's ``dossier.<name>``."""
    apply: Callable[..., dict[str, Any]]
    uploads: str | None = None       # key of the params holding files that must be in S3


ACTIONS: dict[str, Action] = {
    "accept": Action(processing.start_clock),
    "refuse": Action(processing.apply_refuse),
    "forward": Action(processing.apply_forward),
    "request_supplement": Action(processing.apply_request_supplement),
    "supplement": Action(processing.apply_supplement, "attachments"),
    "extend": Action(processing.apply_extend),
    "stop": Action(processing.apply_stop),
    "withdraw": Action(processing.apply_withdraw),
    "issue_result": Action(processing.apply_issue_result, "documents"),
    "return_result": Action(processing.apply_return_result),
    "rate": Action(processing.apply_rate),
    "reassign": Action(processing.apply_reassign),
}
AUDITED = ("reason", "to_step", "assignee", "method", "decision", "backdated", "new_due_at", "reassigned_to")


@dataclass(frozen=True)
class Actor:
    """Who an act is recorded as, when it is not the token's subject (a connected system),
    the permission it acts under, and the report it applies (applied at most once)."""
    by: str
    permission: str
    source_event_id: str | None = None


class AlreadyApplied(Exception):
    """The actor's report is already in the dossier's decisions: nothing to do."""

    def __init__(self, dossier: Mapping[str, Any]) -> None:
        self.dossier = dossier


def permission_for(action: str, actor: Actor | None = None) -> str:
    return actor.permission if actor else f"dossier.{action}"


# --- the sequence ------------------------------------------------------------------------

def change[Result](code: str, identity: Identity, permission: str, step: Step[Result], *,
                   clock: Clock = utc_now) -> Result:
    """Load → ``step`` (check, apply, event) → save, recorded as ``identity``'s change."""
    dossier = permissions.check(identity, permission, store.get_dossier(code))
    expected, before = dossier["version"], audit.snapshot(dossier)
    event, result = step(dossier, to_local(clock()))
    store.save_transition(dossier, event, expected_version=expected,
                          audit_record=audit.change(before, dossier, [event], identity))
    return result


def run(code: str, identity: Identity, action: str, params: Mapping[str, Any] | None = None, *,
        actor: Actor | None = None, clock: Clock = utc_now) -> Dossier:
    """Move the dossier along the graph's edge ``action``; returns the saved dossier.

    After loading: the report already applied (AlreadyApplied), the graph and the action's
    preconditions (409), uploaded files (422), then the processing rules."""
    def step(dossier: Dossier, now: datetime) -> tuple[dict[str, Any], Dossier]:
        _check_replay(dossier, actor)
        status = check(dossier, action)
        return _apply(dossier, action, dict(params or {}), status, now=now, identity=identity, actor=actor), dossier

    return change(code, identity, permission_for(action, actor), step, clock=clock)


def event(action: str, dossier: Mapping[str, Any], *, occurred_at: str, data: dict[str, Any]) -> dict[str, Any]:
    """The one event an edge emits (transitions.EVENT_TYPES), carrying the new version."""
    return dossier_event(transitions.EVENT_TYPES[action], dossier, occurred_at=occurred_at, data=data)


# --- check -------------------------------------------------------------------------------

def check(dossier: Mapping[str, Any], action: str) -> str:
    """The status after ``action`` if every rule allows it: an edge of the graph (409
    ``invalid_transition``), then each of the action's preconditions."""
    status = transitions.next_status(dossier["status"], action)
    for precondition in transitions.PRECONDITIONS.get(action, ()):
        PRECONDITION_CHECKS[precondition](dossier)
    return status


def _fees_paid(dossier: Mapping[str, Any]) -> None:
    """409 ``fees_unpaid`` (chalicelib/payments/rules/ledger.py) when the procedure takes its
    fees before acceptance and some are still owed."""
    from chalicelib.payments.use_cases.payments import (
        check_accept_allowed,  # lazy: payments load on demand
    )
    check_accept_allowed(dossier)


PRECONDITION_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    transitions.FEES_PAID: _fees_paid,
}


def _check_replay(dossier: Mapping[str, Any], actor: Actor | None) -> None:
    if actor and actor.source_event_id and any(
            d.get("source_event_id") == actor.source_event_id for d in dossier.get("decisions", [])):
        raise AlreadyApplied(dossier)


# --- apply -------------------------------------------------------------------------------

def _apply(dossier: Dossier, action: str, params: dict[str, Any], status: str, *, now: datetime,
           identity: Identity, actor: Actor | None) -> dict[str, Any]:
    """Change the dossier for the allowed ``action``; returns its event."""
    spec = ACTIONS[action]
    if spec.uploads:
        errors = missing_uploads(identity.sub, params[spec.uploads], key=spec.uploads)
        if errors:
            raise ValidationFailed(fields=errors)
    by = actor.by if actor else identity.sub
    due_before = dossier.get("due_at")
    data = spec.apply(dossier, params, at=now, by=by, calendar=default_calendar())
    if spec.uploads:
        record_uploader(dossier, params[spec.uploads], identity.sub)
    noted = _decision_details(data, actor)
    if dossier.get("due_at") != due_before:  # the report needs the due date in force over time
        noted["due_at"] = dossier.get("due_at")
    decide(dossier, action=action, status=status, at=iso(now), by=by, **noted)
    return event(action, dossier, occurred_at=iso(now), data=data)


def _decision_details(data: Mapping[str, Any], actor: Actor | None) -> dict[str, Any]:
    """What the decision log keeps besides action, time and author."""
    details = {key: data[key] for key in AUDITED if data.get(key) is not None}
    effective = data.get("finished_at") or data.get("returned_at")
    if effective:
        details["effective_at"] = effective
    if actor and actor.source_event_id:
        details["source_event_id"] = actor.source_event_id
    return details
