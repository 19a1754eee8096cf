"""`motcua agencies plan|apply FILE`: merger day from the operator's terminal.

``plan`` validates a merger plan against the catalogue and the dossiers and prints, per
agency, what will move; nothing is written. ``apply`` carries out the part in force today
(chalicelib/catalogue/use_cases/merger.py): idempotent, resumable, each step printed as it
is done. The runbook is docs/operations.md (Merger day).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

EXIT_INVALID, EXIT_UNREADABLE = 1, 2


def register(sub: Any, configure: Callable[[], Any]) -> None:
    """Add ``agencies plan`` and ``agencies apply`` to the CLI's subcommands; ``configure``
    sets up the settings (the local stack's defaults) before the tables are touched."""
    agencies = sub.add_parser("agencies", help="merger day: agencies merged, renamed, split or retired")
    agencies_sub = agencies.add_subparsers(dest="agencies_command", required=True)
    for name, func, text in (("plan", cmd_plan, "validate a merger plan and print what it will move (writes nothing)"),
                             ("apply", cmd_apply, "apply a merger plan: idempotent, resumable")):
        parser = agencies_sub.add_parser(name, help=text)
        parser.add_argument("file", help="merger plan (JSON), e.g. motcua/seed/merger_plan.json")
        parser.add_argument("--today", help="YYYY-MM-DD local day to plan for (default: today in Asia/Ho_Chi_Minh)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.set_defaults(func=func, configure=configure)


def _load(args: argparse.Namespace) -> tuple[Any, date] | int:
    # Rules only: the stores bind their endpoint when imported, after ``configure``.
    from datetime import UTC, datetime
    from pathlib import Path

    from chalicelib.catalogue.rules.merger import PlanInvalid, parse_plan
    from chalicelib.kernel.working_days import to_local

    try:
        today = date.fromisoformat(args.today) if args.today else to_local(datetime.now(UTC)).date()
        return parse_plan(Path(args.file).read_text(encoding="utf-8")), today
    except PlanInvalid as invalid:
        _print_errors(args.file, [e.to_dict() for e in invalid.errors])
        return EXIT_INVALID
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNREADABLE


def _print_errors(file: str, errors: list[dict[str, Any]]) -> None:
    for error in errors:
        where = f"change {error['change']}" if error["change"] else "plan"
        print(f"{file}: {where}: {error['code']}: {error['message']}", file=sys.stderr)
    print(f"refused: {len(errors)} error(s); nothing changed", file=sys.stderr)


def cmd_plan(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    args.configure()
    from chalicelib.catalogue.use_cases.merger import preview
    plan, today = loaded
    report = preview(plan, today)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_preview(report)
    if report["errors"]:
        _print_errors(args.file, report["errors"])
        return EXIT_INVALID
    return 0


def _print_preview(report: dict[str, Any]) -> None:
    print(f"plan {report['plan_id']} (as of {report['today']})")
    for agency in report["agencies"]:
        when = "due" if agency["due"] else "waits for its day"
        print(f"\n{agency['agency_id']} {agency['name']}: retires {agency['effective_date']} ({when}), "
              f"successor {agency['successor'] or '-'}")
        for code, target in sorted(agency["procedures"].items()):
            print(f"  procedure {code} -> {target}")
        counts = ", ".join(f"{n} {status}" for status, n in sorted(agency["open_dossiers"].items())) or "none"
        print(f"  open dossiers: {counts}")
        for code, target in sorted(agency["dossier_moves"].items()):
            print(f"  dossier {code} -> {target} (code and due date kept)")
        print(f"  officers' reach: {agency['officers_reach']}")
        print("  reports: counts before the day stay under the old code; as_of on or after the day rolls them "
              "into the successor")
    for rename in report["renames"]:
        new = f" (new code {rename['new_agency_id']})" if rename["new_agency_id"] else ""
        print(f"\n{rename['agency_id']}: renamed «{rename['name']}»{new} from {rename['effective_date']}")
    steps = report["catalogue_steps"]
    print(f"\ncatalogue writes still to do today: {len(steps)}")
    for step in steps:
        print(f"  {step}")


def cmd_apply(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    args.configure()
    import getpass

    from chalicelib.catalogue.rules.merger import PlanInvalid
    from chalicelib.catalogue.use_cases.merger import apply
    plan, today = loaded
    try:
        result = apply(plan, today, on_step=lambda line: print(f"done {line}", flush=True),
                       operator=f"cli:{getpass.getuser()}")
    except PlanInvalid as invalid:
        _print_errors(args.file, [e.to_dict() for e in invalid.errors])
        return EXIT_INVALID
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        nothing = not result["catalogue_writes"] and not result["dossiers_moved"]
        print(f"plan {result['plan_id']}: {result['catalogue_writes']} catalogue write(s), "
              f"{result['dossiers_moved']} dossier(s) moved{' (already applied: nothing to do)' if nothing else ''}")
        for day in result["waiting_for"]:
            print(f"waiting: changes effective {day}; run apply again on or after that day")
    return 0
