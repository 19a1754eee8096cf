"""Merger day as data: a plan of agency changes, its validation and the catalogue steps it
takes. Pure: the use case (chalicelib/catalogue/use_cases/merger.py) reads the catalogue and
the dossiers, and writes.

The 2025 reform (Resolution 202/2025/QH15 merging provinces, Resolution 1656/NQ-UBTVQH15 and
its siblings on communes, effective 2025-07-01; Decree 150/2025/ND-CP on the departments)
merged, renamed and dissolved thousands of agencies on one day. A plan lists such changes,
each with its effective date:

* ``merge``: several agencies into one successor (existing, or declared in ``new_agencies``);
* ``rename``: a new name; with ``new_agency_id`` also a new code (the old code retires into
  the new one, so its dossier codes stay valid);
* ``split``: an agency's procedures to several successors (``procedures``: code → agency);
  ``successor`` inherits its open dossiers of unmapped procedures and its history;
* ``retire``: dissolved; ``successor`` serves its procedures and dossiers (may be absent
  only for an agency with no procedure).

Applying a plan twice must change nothing, so validation accepts a catalogue in which the
plan is already (partly) applied: an agency retired *by this plan* is not "already retired",
a procedure already at its target is not "unknown".
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeGuard

from chalicelib.catalogue.rules.procedures import Agency, CatalogueError, Procedure, agency_from_dict

KINDS = ("merge", "rename", "split", "retire")
_PLAN_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class PlanError:
    """One refusal: the change it is about (0: the plan itself), a stable code, a message."""
    change: int
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"change": self.change, "code": self.code, "message": self.message}


class PlanInvalid(ValueError):
    def __init__(self, errors: Iterable[PlanError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(e.message for e in self.errors))


@dataclass(frozen=True)
class Retirement:
    """One agency that stops serving on ``effective``: who takes what."""
    change: int
    agency_id: str
    successor: str | None
    effective: date
    procedures: Mapping[str, str] = field(default_factory=dict)   # split: procedure -> agency

    def target_of(self, procedure_code: str) -> str | None:
        """The agency that serves this procedure (and holds its open dossiers) from the day."""
        return self.procedures.get(procedure_code, self.successor)


@dataclass(frozen=True)
class Rename:
    change: int
    agency_id: str
    name: str
    effective: date
    new_agency_id: str | None = None    # a new code: created with the old one's level and parent


@dataclass(frozen=True)
class Plan:
    plan_id: str
    new_agencies: tuple[Agency, ...]
    retirements: tuple[Retirement, ...]
    renames: tuple[Rename, ...]

    def due(self, today: date) -> Plan:
        """The part of the plan in force on ``today``; later changes wait for their day."""
        return replace(self, retirements=tuple(r for r in self.retirements if r.effective <= today),
                       renames=tuple(r for r in self.renames if r.effective <= today),
                       new_agencies=tuple(a for a in self.new_agencies if self._needed_by(a.agency_id, today)))

    def _needed_by(self, agency_id: str, today: date) -> bool:
        dates = [r.effective for r in self.retirements if agency_id in (r.successor, *r.procedures.values())]
        return not dates or min(dates) <= today

    def retirement(self, agency_id: str) -> Retirement | None:
        return next((r for r in self.retirements if r.agency_id == agency_id), None)


# --- parsing ------------------------------------------------------------------------------

def parse_plan(text: str) -> Plan:
    """A Plan from the JSON of a plan file; PlanInvalid lists every malformed change."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanInvalid([PlanError(0, "invalid_plan", f"Tệp JSON không hợp lệ: {exc.msg} (dòng {exc.lineno})")]) from exc
    if not isinstance(doc, dict):
        raise PlanInvalid([PlanError(0, "invalid_plan", 'Kế hoạch phải là một đối tượng có "plan_id" và "changes"')])
    errors: list[PlanError] = []
    plan_id = doc.get("plan_id")
    if not isinstance(plan_id, str) or not _PLAN_ID_RE.fullmatch(plan_id):
        errors.append(PlanError(0, "invalid_plan", '"plan_id" phải gồm 1–64 chữ cái không dấu, chữ số, ".", "_" hoặc "-"'))
    new_agencies = _new_agencies(doc.get("new_agencies", []), errors)
    raw_changes = doc.get("changes")
    if not isinstance(raw_changes, list) or not raw_changes:
        errors.append(PlanError(0, "invalid_plan", '"changes" phải là một danh sách không rỗng'))
        raw_changes = []
    retirements: list[Retirement] = []
    renames: list[Rename] = []
    for n, raw in enumerate(raw_changes, 1):
        _parse_change(n, raw, retirements, renames, errors)
    if errors:
        raise PlanInvalid(errors)
    return Plan(str(plan_id), tuple(new_agencies), tuple(retirements), tuple(renames))


def _new_agencies(raw: Any, errors: list[PlanError]) -> list[Agency]:
    if not isinstance(raw, list):
        errors.append(PlanError(0, "invalid_plan", '"new_agencies" phải là một danh sách'))
        return []
    out = []
    for n, item in enumerate(raw, 1):
        try:
            out.append(agency_from_dict(item))
        except CatalogueError as exc:
            errors.extend(PlanError(0, "invalid_plan", f"Cơ quan mới thứ {n}: {e.field or ''} {e.message}".strip())
                          for e in exc.errors)
    return out


def _parse_change(n: int, raw: Any, retirements: list[Retirement], renames: list[Rename],
                  errors: list[PlanError]) -> None:
    def bad(message: str) -> None:
        errors.append(PlanError(n, "invalid_plan", f"Thay đổi thứ {n}: {message}"))

    if not isinstance(raw, dict):
        return bad("phải là một đối tượng JSON")
    kind = raw.get("kind")
    if kind not in KINDS:
        return bad('"kind" phải là một trong: ' + ", ".join(KINDS))
    try:
        effective = date.fromisoformat(str(raw.get("effective_date")))
    except ValueError:
        return bad('"effective_date" phải có dạng YYYY-MM-DD')
    successor = raw.get("successor")
    if successor is not None and not _is_code(successor):
        return bad('"successor" phải là mã cơ quan')
    if kind == "merge":
        sources = raw.get("agencies")
        if not isinstance(sources, list) or not sources or not all(_is_code(s) for s in sources):
            return bad('"agencies" phải là danh sách mã cơ quan được sáp nhập')
        if not successor:
            return bad('sáp nhập cần "successor" (cơ quan kế thừa)')
        retirements.extend(Retirement(n, s, successor, effective) for s in sources)
        return None
    agency_id = raw.get("agency_id")
    if not _is_code(agency_id):
        return bad('"agency_id" phải là mã cơ quan')
    if kind == "rename":
        return _parse_rename(n, raw, agency_id, effective, retirements, renames, bad)
    procedures: dict[str, str] = {}
    if kind == "split":
        raw_procedures = raw.get("procedures")
        if not isinstance(raw_procedures, dict) or not raw_procedures or not all(
                isinstance(k, str) and _is_code(v) for k, v in raw_procedures.items()):
            return bad('chia tách cần "procedures": {mã thủ tục: mã cơ quan tiếp nhận}')
        if not successor:
            return bad('chia tách cần "successor": cơ quan kế thừa lịch sử và hồ sơ còn lại')
        procedures = dict(raw_procedures)
    retirements.append(Retirement(n, agency_id, successor, effective, procedures))
    return None


def _parse_rename(n: int, raw: Mapping[str, Any], agency_id: str, effective: date, retirements: list[Retirement],
                  renames: list[Rename], bad: Any) -> None:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        return bad('đổi tên cần "name" (tên mới)')
    new_code = raw.get("new_agency_id")
    if new_code is None or new_code == agency_id:
        renames.append(Rename(n, agency_id, name.strip(), effective))
        return None
    if not _is_code(new_code):
        return bad('"new_agency_id" phải là mã cơ quan')
    # A new code: the old code retires into the new one, which keeps its level and parent.
    renames.append(Rename(n, agency_id, name.strip(), effective, new_code))
    retirements.append(Retirement(n, agency_id, new_code, effective))
    return None


def _is_code(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9._]{1,64}", value) is not None


# --- validation ---------------------------------------------------------------------------

def validate(plan: Plan, agencies: Mapping[str, Agency], procedures: Iterable[Procedure]) -> list[PlanError]:
    """Every reason the plan cannot be applied to this catalogue (empty: it can)."""
    procedures = list(procedures)
    errors: list[PlanError] = []
    declared = {a.agency_id for a in plan.new_agencies} | {r.new_agency_id for r in plan.renames if r.new_agency_id}
    known = set(agencies) | declared
    errors += _twice(plan)
    errors += _new_codes_taken(plan, agencies)
    for rename in plan.renames:
        if rename.agency_id not in agencies:
            errors.append(PlanError(rename.change, "unknown_agency", f"Không có cơ quan {rename.agency_id} trong danh mục."))
    retiring = {r.agency_id for r in plan.retirements}
    for retirement in plan.retirements:
        errors += _check_retirement(retirement, plan, agencies, known, retiring, procedures)
    return errors


def _twice(plan: Plan) -> list[PlanError]:
    seen: dict[str, int] = {}
    errors = []
    changes = [(r.change, r.agency_id) for r in plan.retirements]
    changes += [(r.change, r.agency_id) for r in plan.renames if not r.new_agency_id]
    for change, agency_id in changes:
        if agency_id in seen and seen[agency_id] != change:
            errors.append(PlanError(change, "changed_twice", f"Cơ quan {agency_id} đã có trong thay đổi thứ "
                                                             f"{seen[agency_id]}; mỗi cơ quan chỉ thay đổi một lần."))
        seen.setdefault(agency_id, change)
    return errors


def _new_codes_taken(plan: Plan, agencies: Mapping[str, Agency]) -> list[PlanError]:
    """A new agency may already exist only as this plan made it (a second run)."""
    errors = []
    for agency in plan.new_agencies:
        current = agencies.get(agency.agency_id)
        if current is not None and (current.name, current.level) != (agency.name, agency.level):
            errors.append(PlanError(0, "agency_exists", f"Mã cơ quan mới {agency.agency_id} đã dùng cho "
                                                        f"«{current.name}»."))
    for rename in plan.renames:
        current = agencies.get(rename.new_agency_id or "")
        if rename.new_agency_id and current is not None and current.name != rename.name:
            errors.append(PlanError(rename.change, "agency_exists",
                                    f"Mã cơ quan mới {rename.new_agency_id} đã dùng cho «{current.name}»."))
    return errors


def _check_retirement(r: Retirement, plan: Plan, agencies: Mapping[str, Agency], known: set[str],
                      retiring: set[str], procedures: list[Procedure]) -> list[PlanError]:
    def error(code: str, message: str) -> PlanError:
        return PlanError(r.change, code, message)

    current = agencies.get(r.agency_id)
    if current is None:
        return [error("unknown_agency", f"Không có cơ quan {r.agency_id} trong danh mục.")]
    errors = []
    if current.status == "retired" and not retired_by(current, r):
        errors.append(error("already_retired", f"Cơ quan {r.agency_id} đã ngừng hoạt động từ "
                                               f"{current.effective_date}."))
    for target in sorted({t for t in (r.successor, *r.procedures.values()) if t}):
        if target not in known:
            errors.append(error("unknown_agency", f"Không có cơ quan kế thừa {target} trong danh mục hay trong "
                                                  '"new_agencies".'))
        elif _leads_back(target, r.agency_id, plan, agencies):
            errors.append(error("cycle", f"Vòng lặp kế thừa: {r.agency_id} → {target} → … → {r.agency_id}."))
        elif target in retiring or (target in agencies and agencies[target].status == "retired"):
            errors.append(error("successor_retired", f"Cơ quan kế thừa {target} cũng ngừng hoạt động; hãy chỉ "
                                                     "thẳng tới cơ quan còn hoạt động."))
    owned = [p for p in procedures if p.agency_id == r.agency_id]
    for code, target in sorted(r.procedures.items()):
        if not any(p.procedure_code == code and p.agency_id in (r.agency_id, target) for p in procedures):
            errors.append(error("unknown_procedure", f"Thủ tục {code} không thuộc cơ quan {r.agency_id}."))
    orphans = sorted(p.procedure_code for p in owned if r.target_of(p.procedure_code) is None)
    if orphans:
        errors.append(error("procedures_orphaned", f"Thủ tục {', '.join(orphans)} của {r.agency_id} sẽ không còn "
                                                   'cơ quan giải quyết: cần "successor" hoặc "procedures".'))
    return errors


def retired_by(agency: Agency, r: Retirement) -> bool:
    """Whether the catalogue already shows this retirement (the plan ran before)."""
    return (agency.status, agency.successor, agency.effective_date) == ("retired", r.successor, r.effective.isoformat())


def _leads_back(start: str, origin: str, plan: Plan, agencies: Mapping[str, Agency]) -> bool:
    """Whether following successors from ``start`` (the plan's, then the catalogue's) reaches ``origin``."""
    edges: dict[str, set[str]] = {a.agency_id: {a.successor} for a in agencies.values() if a.successor}
    for r in plan.retirements:
        edges[r.agency_id] = {t for t in (r.successor, *r.procedures.values()) if t}
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == origin:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return False


# --- the catalogue's steps ------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogueStep:
    """One idempotent write: ``record`` replaces what the catalogue holds under ``key``."""
    key: str
    record: Agency | Procedure
    summary: str


def catalogue_steps(plan: Plan, agencies: Mapping[str, Agency], procedures: Iterable[Procedure]) -> list[CatalogueStep]:
    """What is still to write for a valid plan, in order: new agencies, renames, retirements,
    children re-parented, procedures moved. Recomputed from the catalogue on every run, so a
    record already as the plan wants it is no step, and a second run has none."""
    steps = []
    for agency in plan.new_agencies:
        if agencies.get(agency.agency_id) != agency:
            steps.append(CatalogueStep(f"agency:{agency.agency_id}:create", agency, f"tạo cơ quan {agency.agency_id}"))
    for rename in plan.renames:
        old = agencies[rename.agency_id]
        code = rename.new_agency_id or rename.agency_id
        target = Agency(code, rename.name, old.level, old.parent_id) if rename.new_agency_id else replace(old, name=rename.name)
        if code not in agencies or (not rename.new_agency_id and agencies[code] != target):
            steps.append(CatalogueStep(f"agency:{code}:rename", target, f"{rename.agency_id} đổi tên thành «{rename.name}»"))
    for r in plan.retirements:
        current = agencies[r.agency_id]
        if not retired_by(current, r):
            target = replace(current, status="retired", successor=r.successor, effective_date=r.effective.isoformat())
            steps.append(CatalogueStep(f"agency:{r.agency_id}:retire", target,
                                       f"{r.agency_id} ngừng hoạt động từ {r.effective}, kế thừa: {r.successor or '—'}"))
    for agency in agencies.values():
        parent = plan.retirement(agency.parent_id or "")
        if parent and parent.successor and agency.agency_id != parent.successor and plan.retirement(agency.agency_id) is None:
            steps.append(CatalogueStep(f"agency:{agency.agency_id}:parent", replace(agency, parent_id=parent.successor),
                                       f"{agency.agency_id} trực thuộc {parent.successor}"))
    for procedure in procedures:
        leaving = plan.retirement(procedure.agency_id)
        to = leaving.target_of(procedure.procedure_code) if leaving else None
        if leaving and to:
            steps.append(CatalogueStep(f"procedure:{procedure.procedure_code}:move", moved(procedure, leaving.agency_id, to),
                                       f"thủ tục {procedure.procedure_code}: {leaving.agency_id} → {to}"))
    return steps


def moved(procedure: Procedure, old: str, new: str) -> Procedure:
    """The procedure served by ``new``; a hand-over step to ``old`` now goes to ``new``."""
    steps = tuple(replace(s, agency_id=new) if s.agency_id == old else s for s in procedure.steps)
    return replace(procedure, agency_id=new, steps=steps)


def keep_retirements(agencies: Iterable[Agency], procedures: Iterable[Procedure], current: Mapping[str, Agency],
                     current_procedures: Mapping[str, Procedure]) -> tuple[list[Agency], list[Procedure], list[str]]:
    """A catalogue file written before merger day lists a retired agency as active and its
    procedures under it: importing it must not bring the agency back nor take the procedures
    from the successor serving them. Returns the agencies and procedures to write and the ids
    of the records kept as merger day left them."""
    kept: list[str] = []
    out_agencies = []
    for agency in agencies:
        known = current.get(agency.agency_id)
        if known is not None and known.status == "retired" and agency.status == "active":
            agency = replace(agency, status="retired", successor=known.successor, effective_date=known.effective_date)
            kept.append(agency.agency_id)
        out_agencies.append(agency)
    retired = {a.agency_id for a in out_agencies if a.status == "retired"} | {
        a.agency_id for a in current.values() if a.status == "retired"}
    out_procedures = []
    for procedure in procedures:
        serving = current_procedures.get(procedure.procedure_code)
        if procedure.agency_id in retired and serving is not None and serving.agency_id not in retired:
            procedure = replace(procedure, agency_id=serving.agency_id, steps=serving.steps)
            kept.append(procedure.procedure_code)
        out_procedures.append(procedure)
    return out_agencies, out_procedures, kept
