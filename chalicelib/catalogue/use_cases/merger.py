"""Merger day: show what a plan will move (``motcua agencies plan``) and carry it out
(``motcua agencies apply``). The plan and its checks are chalicelib/catalogue/rules/merger.py.

Apply is a sequence of idempotent steps, each recomputed from what the tables hold now:

1. the catalogue's writes (new agencies, renames, retirements, re-parented children, moved
   procedures): each record is written only if it differs from what the plan wants;
2. one ``reassign`` transition per open dossier of each retired agency, keyed by the plan id
   and the dossier code (chalicelib/dossiers/use_cases/reassign.py).

A second run finds nothing to write and no open dossier left at a retired agency, so it
changes nothing and publishes nothing; a run stopped between two moves (a crash, a throttled
table) resumes where it stopped, and the moves already made are not made again. Changes whose
effective date is later than today wait: run apply again on or after their day.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from chalicelib.catalogue.rules.merger import (
    Plan, PlanError, PlanInvalid, catalogue_steps, parse_plan, validate,
)
from chalicelib.catalogue.rules.procedures import Agency, Procedure
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.dossiers.use_cases import reassign as dossier_moves
from chalicelib.trust.rules.identity import Identity

# Who the moves are recorded as in the decision log and the audit log, unless the operator is named.
MERGER_IDENTITY = Identity(sub="system:merger", role="admin")
MAX_CATALOGUE_PASSES = 3   # a new agency may need re-parenting once it exists


def load_plan(path: str | Path) -> Plan:
    return parse_plan(Path(path).read_text(encoding="utf-8"))


def check(plan: Plan) -> list[PlanError]:
    """Every reason this plan cannot be applied to the catalogue as it is now."""
    snapshot = catalogue_store.snapshot()
    errors = validate(plan, snapshot.agencies, snapshot.procedures.values())
    for r in plan.retirements:
        if r.successor is None and next(iter(dossier_moves.open_dossiers_of(r.agency_id)), None) is not None:
            errors.append(PlanError(r.change, "dossiers_orphaned", f"{r.agency_id} còn hồ sơ đang giải quyết: cần "
                                                                   '"successor" để chuyển hồ sơ.'))
    return errors


def preview(plan: Plan, today: date) -> dict[str, Any]:
    """Per retiring or renamed agency, what the plan will move; nothing is written."""
    snapshot = catalogue_store.snapshot()
    agencies: list[dict[str, Any]] = []
    for r in plan.retirements:
        current = snapshot.agencies.get(r.agency_id)
        dossiers = list(dossier_moves.open_dossiers_of(r.agency_id))
        agencies.append({
            "agency_id": r.agency_id, "name": current.name if current else r.agency_id,
            "change": r.change, "successor": r.successor, "effective_date": r.effective.isoformat(),
            "due": r.effective <= today,
            "procedures": {p.procedure_code: r.target_of(p.procedure_code)
                           for p in snapshot.procedures.values() if p.agency_id == r.agency_id},
            "open_dossiers": dict(Counter(d["status"] for d in dossiers)),
            "dossier_moves": {d["code"]: r.target_of(d["procedure_code"]) or r.successor for d in dossiers},
            "officers_reach": _reach(r.agency_id, r.successor),
        })
    renames = [{"agency_id": rn.agency_id, "change": rn.change, "name": rn.name, "new_agency_id": rn.new_agency_id,
                "effective_date": rn.effective.isoformat(), "due": rn.effective <= today} for rn in plan.renames]
    return {"plan_id": plan.plan_id, "today": today.isoformat(), "errors": [e.to_dict() for e in check(plan)],
            "agencies": agencies, "renames": renames,
            "catalogue_steps": [s.summary for s in catalogue_steps(plan.due(today), snapshot.agencies,
                                                                  snapshot.procedures.values())]}


def _reach(agency_id: str, successor: str | None) -> str:
    if successor is None:
        return "không cơ quan nào kế thừa: lịch sử chỉ quản trị viên xem được"
    return (f"cán bộ, lãnh đạo của {successor} xem được hồ sơ và báo cáo của {agency_id}; "
            f"tài khoản của {agency_id} chỉ còn xem hồ sơ mình đã tham gia")


def apply(plan: Plan, today: date, *, on_step: Callable[[str], None] = lambda _: None,
          clock: Callable[[], Any] | None = None, operator: str | None = None) -> dict[str, Any]:
    """Carry out the part of the plan in force on ``today``. PlanInvalid if it cannot be.
    ``operator`` (e.g. ``cli:<user>``) is who the audit log records for the moves."""
    errors = check(plan)
    if errors:
        raise PlanInvalid(errors)
    due = plan.due(today)
    written = _write_catalogue(due, on_step)
    identity = Identity(sub=operator, role="admin") if operator else MERGER_IDENTITY
    moved = _move_dossiers(due, on_step, clock, identity)
    waiting = sorted({r.effective.isoformat() for r in plan.retirements if r.effective > today}
                     | {r.effective.isoformat() for r in plan.renames if r.effective > today})
    return {"plan_id": plan.plan_id, "catalogue_writes": written, "dossiers_moved": moved, "waiting_for": waiting}


def _write_catalogue(plan: Plan, on_step: Callable[[str], None]) -> int:
    written = 0
    for _ in range(MAX_CATALOGUE_PASSES):
        snapshot = catalogue_store.snapshot()
        steps = catalogue_steps(plan, snapshot.agencies, snapshot.procedures.values())
        if not steps:
            break
        for step in steps:
            record = step.record
            catalogue_store.save_catalogue([record] if isinstance(record, Agency) else [],
                                           [record] if isinstance(record, Procedure) else [])
            on_step(f"{plan.plan_id}/{step.key}: {step.summary}")
            written += 1
    return written


def _move_dossiers(plan: Plan, on_step: Callable[[str], None], clock: Callable[[], Any] | None,
                   identity: Identity) -> int:
    moved = 0
    for r in plan.retirements:
        reason = f"Sắp xếp cơ quan theo kế hoạch {plan.plan_id}, hiệu lực từ {r.effective.isoformat()}"
        for dossier in list(dossier_moves.open_dossiers_of(r.agency_id)):
            target = r.target_of(dossier["procedure_code"]) or r.successor
            if target is None:
                continue   # check() refused a plan leaving open dossiers without a successor
            extra = {"clock": clock} if clock else {}
            if dossier_moves.reassign(dossier["code"], target, plan_id=plan.plan_id, reason=reason,
                                      identity=identity, **extra) is not None:
                moved += 1
                on_step(f"{plan.plan_id}/dossier:{dossier['code']}: {r.agency_id} → {target}")
    return moved
