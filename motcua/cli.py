"""`motcua`: the operator CLI.

Commands that talk to AWS use the same settings as the app. With no MOTCUA_STAGE (or
``local``) they talk to the local stack started by ``make run``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from collections.abc import Sequence


def _settings() -> Any:
    from chalicelib.runtime.settings import settings
    if os.environ.get("MOTCUA_STAGE", "local") == "local":
        from motcua.local import configure_environment
        configure_environment()
        settings.cache_clear()   # an import may have read them before the local stack's defaults were in
    return settings()


def cmd_local(args: argparse.Namespace) -> int:
    from motcua.local import main
    return main(verbose=args.verbose)


def cmd_hostile(args: argparse.Namespace) -> int:
    from motcua.hostile import main
    return main(args.url, args.log)


def cmd_token(args: argparse.Namespace) -> int:
    from chalicelib.kernel.errors import DomainError
    from chalicelib.trust.rules.identity import mint_local_token

    cfg = _settings()
    if not cfg.is_local:
        print("error: tokens can only be minted for the local stage", file=sys.stderr)
        return 2
    sub = args.sub or (f"{args.role}-{args.agency}" if args.agency else f"{args.role}-demo")
    try:
        print(mint_local_token(cfg.local_jwt_secret, sub, args.role, args.agency, ttl_seconds=args.ttl,
                               id_number=args.id_number, vneid_verified=args.vneid_verified))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    return 0


def cmd_due_date(args: argparse.Namespace) -> int:
    from chalicelib.kernel.working_days import Pause, default_calendar, iso, parse_iso

    try:
        accepted = parse_iso(args.accepted)
        pauses = []
        for text in args.pause or []:
            start, sep, end = text.partition("/")
            if not sep:
                raise ValueError(f"--pause must be START/END, got {text!r}")
            pauses.append(Pause(parse_iso(start), parse_iso(end) if end else None))
        due = default_calendar().due_date(accepted, args.working_days, pauses, args.rule)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.explain:
        print(json.dumps(default_calendar().explain(accepted, args.working_days, pauses, args.rule),
                         ensure_ascii=False, indent=2))
    else:
        print(iso(due) if due else "paused (the clock is stopped)")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from chalicelib.runtime import aws
    from chalicelib.runtime import resources

    cfg = _settings()
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=cfg.name(resources.TAP_QUEUE.name))["QueueUrl"]
    try:
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=2 if args.follow else 0).get("Messages", [])
            for message in messages:
                print(json.dumps(json.loads(message["Body"]), ensure_ascii=False), flush=True)
            if messages:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
            elif not args.follow:
                return 0
    except KeyboardInterrupt:
        return 0


def cmd_seed(args: argparse.Namespace) -> int:
    _settings()
    from motcua.seed import seed_catalogue
    print(f"seeded {seed_catalogue()} sample catalogue items")
    return 0


def cmd_catalogue_import(args: argparse.Namespace) -> int:
    from chalicelib.catalogue.rules.procedures import CatalogueError, load_catalogue_file
    from chalicelib.kernel.rows import rejection_report

    limit = _settings().import_max_bytes
    try:
        agencies, procedures = load_catalogue_file(args.file, limit=limit)
    except CatalogueError as error:
        print(rejection_report(error.errors, args.file), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from chalicelib.catalogue.store.procedures import save_catalogue, snapshot
    missing = sorted({p.agency_id for p in procedures} - {a.agency_id for a in agencies}
                     - set(snapshot().agencies))
    if missing:
        print(f"nothing imported: unknown agencies {', '.join(missing)}", file=sys.stderr)
        return 1
    from chalicelib.catalogue.rules.merger import keep_retirements
    agencies, procedures, kept = keep_retirements(agencies, procedures, snapshot().agencies, snapshot().procedures)
    for code in kept:
        print(f"kept as merger day left it: {code}")
    count = save_catalogue(agencies, procedures)
    print(f"imported {len(agencies)} agencies and {len(procedures)} procedures ({count} items)")
    return 0


def cmd_privacy_export(args: argparse.Namespace) -> int:
    """Everything held about one citizen, as one JSON document (format in docs/security.md, Privacy)."""
    import getpass
    from chalicelib.kernel.errors import DomainError

    _settings()
    from chalicelib.trust.use_cases.privacy import export
    try:
        document = export(args.id_number, actor=f"cli:{getpass.getuser()}", with_files=args.with_files)
    except DomainError as error:
        print(f"error: {error.message} {error.fields}", file=sys.stderr)
        return 2
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        print(f"wrote {len(document['dossiers'])} dossier(s) to {args.out}")
    else:
        print(text)
    return 0


def cmd_privacy_purge(args: argparse.Namespace) -> int:
    """Delete the files of dossiers closed longer ago than the retention period."""
    _settings()
    from chalicelib.trust.use_cases.privacy import purge
    print(json.dumps(purge(dry_run=args.dry_run, years=args.years), ensure_ascii=False))
    return 0


def _read_import(path: str, *, by_line: bool = True) -> str:
    """An import file's text, at most MOTCUA_IMPORT_MAX_BYTES; RowsRejected naming the file when
    it is not UTF-8 text (chalicelib/kernel/rows.py read_file)."""
    from dataclasses import replace
    from chalicelib.kernel.rows import RowsRejected, read_file
    try:
        return read_file(path, limit=_settings().import_max_bytes, by_line=by_line)
    except RowsRejected as rejected:
        raise RowsRejected([replace(error, file=path) for error in rejected.errors]) from None


def cmd_accounts_import(args: argparse.Namespace) -> int:
    """Load legacy citizen accounts (and their old dossiers): all or nothing."""
    from chalicelib.kernel.rows import RowsRejected, rejection_report
    from chalicelib.trust.rules.legacy import parse_files
    try:
        accounts_text = _read_import(args.file)
        dossiers_text = _read_import(args.dossiers) if args.dossiers else None
        accounts, dossiers = parse_files(accounts_text, dossiers_text, accounts_name=args.file,
                                         dossiers_name=args.dossiers or "dossiers")
    except RowsRejected as error:   # LegacyImportError, or a file that is not text
        print(rejection_report(error.errors), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from chalicelib.trust.use_cases.legacy import import_records
    report = import_records(accounts, dossiers)
    for entry in report["matched"]:
        print(f"matched {entry['legacy_id']}: {entry['motcua_dossiers']} MotCua dossier(s) with the same id number, "
              f"{entry['legacy_dossiers']} old dossier(s)")
    for entry in report["unmatched"]:
        print(f"not matched {entry['legacy_id']}: no MotCua dossier with this id number yet "
              f"(links at first login), {entry['legacy_dossiers']} old dossier(s)")
    print(f"imported {report['accounts']} account(s) and {report['dossiers']} old dossier(s): "
          f"{len(report['matched'])} matched, {len(report['unmatched'])} not matched")
    return 0


def cmd_legacy_import_dossiers(args: argparse.Namespace) -> int:
    """Import v1 dossiers as live dossiers that keep their code and dates: all or nothing."""
    from chalicelib.kernel.rows import RowsRejected, rejection_report
    is_json = args.json or args.file.lower().endswith(".json")
    _settings()
    from chalicelib.dossiers.use_cases.v1_import import import_file
    from chalicelib.sync.use_cases.national_sync import enter_unsynced
    try:
        dossiers = import_file(_read_import(args.file, by_line=not is_json), is_json=is_json)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RowsRejected as error:   # ImportRejected, or a file that is not text
        print(rejection_report(error.errors, args.file), file=sys.stderr)
        return 1
    enter_unsynced([dossier["code"] for dossier in dossiers])
    print(f"imported {len(dossiers)} v1 dossier(s), not yet sent to the national portal", end="")
    if dossiers:
        earliest = min(dossier["submitted_at"] for dossier in dossiers)[:10]
        print(f"; send them with: motcua sync backfill --since {earliest}", end="")
    print()
    return 0


def cmd_reports_verify(args: argparse.Namespace) -> int:
    from datetime import date

    _settings()
    from chalicelib.reports.use_cases import reports as report_service
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    found = report_service.verify_each(start, end, args.group_by or ["agency", "field", "procedure"])
    problems = [f"group_by={group_by} {p}" for group_by, cells in found.items() for p in cells]
    for problem in problems:
        print(problem)
    print(f"{'MISMATCH' if problems else 'OK'}: report for {start}..{end} "
          f"{'differs in ' + str(len(problems)) + ' cell(s)' if problems else 'equals the recount from dossiers'}")
    return 1 if problems else 0


def cmd_reports_indicators_verify(args: argparse.Namespace) -> int:
    """Recount every 766 indicator straight from the dossiers and print where the counters differ."""
    from datetime import date

    _settings()
    from chalicelib.reports.use_cases import index766
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = index766.verify(start, end, args.agency or None)
    for problem in problems:
        print(problem)
    print(f"{'MISMATCH' if problems else 'OK'}: 766 indicators for {start}..{end} "
          f"{'differ in ' + str(len(problems)) + ' place(s)' if problems else 'equal the recount from dossiers'}")
    return 1 if problems else 0


def cmd_payments_reconcile(args: argparse.Namespace) -> int:
    """Run the sweep once; its JSON log lines come first, the summary is the last line."""
    _settings()
    from chalicelib.payments.use_cases.payments import sweep
    print(json.dumps(sweep(min_age_minutes=args.min_age_minutes), ensure_ascii=False))
    return 0


def cmd_payments_report(args: argparse.Namespace) -> int:
    from chalicelib.kernel.errors import DomainError
    from chalicelib.payments.rules.reconciliation import parse_settlement, to_csv, to_xlsx

    _settings()
    from chalicelib.payments.use_cases.payments import reconciliation_report, settlement_layout
    try:
        settlement = None
        if args.settlement:
            layout = settlement_layout(Path(args.layout).read_text(encoding="utf-8") if args.layout else None)
            settlement = parse_settlement(Path(args.settlement).read_text(encoding="utf-8-sig"), layout)
        report = reconciliation_report(args.date, settlement)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"error: {error.message} {error.fields}", file=sys.stderr)
        return 2
    if args.csv:
        with open(args.csv, "w", encoding="utf-8", newline="") as out:
            out.write(to_csv(report))
    if args.xlsx:
        with open(args.xlsx, "wb") as out:
            out.write(to_xlsx(report))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def cmd_sync_redrive(args: argparse.Namespace) -> int:
    _settings()
    from motcua.sync_ops import redrive
    print(f"moved {redrive()} message(s) from the national-sync DLQ back to its queue")
    return 0


def cmd_sync_backfill(args: argparse.Namespace) -> int:
    _settings()
    from chalicelib.catalogue.store.procedures import snapshot
    from motcua.sync_ops import backfill
    agencies = args.agency or sorted(snapshot().agencies)
    print(f"queued {backfill(args.since, agencies)} dossier(s) whose national sync is behind")
    return 0


def cmd_sync_resend(args: argparse.Namespace) -> int:
    _settings()
    from motcua.sync_ops import resend
    if not resend(args.code):
        print(f"error: no dossier {args.code}", file=sys.stderr)
        return 1
    print(f"queued {args.code}: the national sync sends it as it is now")
    return 0


def cmd_sync_rejected(args: argparse.Namespace) -> int:
    """Print each dossier whose record the national portal refused, with its message; exit 1
    when there is one."""
    _settings()
    from chalicelib.catalogue.store.procedures import snapshot
    from motcua.sync_ops import rejected
    found = 0
    for dossier, ledger in rejected(args.since, args.agency or sorted(snapshot().agencies)):
        found += 1
        print(f"{dossier['code']} ({dossier['status']}, {dossier['agency_id']}): phiên bản {ledger.rejected_version} "
              f"bị từ chối ({ledger.state}): {ledger.last_error}")
    print(f"{found} dossier(s) refused by the national portal; fix the data, then: motcua sync resend CODE")
    return 1 if found else 0


def cmd_sync_show(args: argparse.Namespace) -> int:
    """The records on stdout (JSON, as sent); the sync ledger's state on stderr."""
    _settings()
    from motcua.sync_ops import ledger_of, show
    records = show(args.code)
    if records is None:
        print(f"error: no dossier {args.code}", file=sys.stderr)
        return 1
    print(json.dumps(records, ensure_ascii=False, indent=2))
    ledger = ledger_of(args.code)
    if ledger is None:
        print("national sync: never delivered", file=sys.stderr)
    else:
        refused = f", refused version {ledger.rejected_version}" if ledger.rejected else ""
        print(f"national sync: {ledger.state}, portal has version {ledger.version}{refused}, "
              f"attempts {ledger.attempts}" + (f": {ledger.last_error}" if ledger.last_error else ""), file=sys.stderr)
    return 0


def cmd_sync_check(args: argparse.Namespace) -> int:
    """Print each open dossier whose records the portal would refuse or count against the
    province; exit 1 when there is one."""
    _settings()
    from chalicelib.catalogue.store.procedures import snapshot
    from motcua.sync_ops import check
    checked = failing = 0
    costs: dict[str, set[str]] = {}
    for dossier, problems in check(args.agency or sorted(snapshot().agencies)):
        checked += 1
        if problems:
            failing += 1
            print(f"{dossier['code']} ({dossier['status']}, {dossier['agency_id']})")
            for problem in problems:
                print(f"  - {problem}")
                costs.setdefault(problem.cost or "Cổng DVCQG sẽ từ chối bản ghi", set()).add(dossier["code"])
    print(f"checked {checked} open dossier(s): {failing} with problems")
    for cost, codes in sorted(costs.items()):
        print(f"  {len(codes)} dossier(s): {cost}")
    return 1 if failing else 0


def cmd_notifications_tail(args: argparse.Namespace) -> int:
    """Print what the local stack's channels sent, one line each, from the sink file."""
    import time
    _settings()
    path = os.environ.get("MOTCUA_NOTIFICATIONS_SINK")
    if not path:
        print("error: MOTCUA_NOTIFICATIONS_SINK is not set", file=sys.stderr)
        return 2
    offset = 0
    try:
        while True:
            try:
                with open(path, encoding="utf-8") as sink:
                    sink.seek(offset)
                    lines = sink.readlines()
                    offset = sink.tell()
            except FileNotFoundError:
                lines = []
            for line in lines:
                record = json.loads(line)
                if args.json:
                    print(line.rstrip("\n"), flush=True)
                else:
                    print(f"{record['at']} {record['channel']:<5} -> {record['to']}: {record['text']}", flush=True)
            if not args.follow:
                return 0
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="MotCua operator CLI")
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="start the local stack (what `make run` does)")
    local.add_argument("--verbose", action="store_true",
                       help="also print the emulators' traffic (moto's access log, the simulators' requests)")
    local.set_defaults(func=cmd_local)

    token = sub.add_parser("token", help="mint a local-stage bearer token")
    token.add_argument("--role", required=True,
                       choices=["citizen", "officer", "leader", "finance", "admin", "integration"])
    token.add_argument("--agency", help="agency_id (officers and leaders)")
    token.add_argument("--sub", help="subject; defaults to a readable demo id")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token.add_argument("--id-number", help="id number claim (citizens: links a legacy account)")
    token.add_argument("--vneid-verified", action="store_true",
                       help="the account was verified with VNeID (counted by the 766 index, 4.5)")
    token.set_defaults(func=cmd_token)

    due = sub.add_parser("due-date", help="compute a due date in working days")
    due.add_argument("--accepted", required=True, help="ISO 8601 with offset, e.g. 2025-04-25T10:00:00+07:00")
    due.add_argument("--working-days", type=int, required=True)
    due.add_argument("--pause", action="append", metavar="START/END", help="a supplement pause; repeatable")
    due.add_argument("--rule", choices=["resume", "restart"], default="resume")
    due.add_argument("--explain", action="store_true", help="print the day-by-day explanation as JSON")
    due.set_defaults(func=cmd_due_date)

    events = sub.add_parser("events", help="print events that reached the bus, as JSON lines")
    events.add_argument("--follow", action="store_true", help="keep waiting for new events")
    events.set_defaults(func=cmd_events)

    sub.add_parser("seed", help="load the sample catalogue").set_defaults(func=cmd_seed)

    catalogue = sub.add_parser("catalogue", help="catalogue administration")
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    imp = catalogue_sub.add_parser("import", help="validate and import a JSON or CSV catalogue file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_catalogue_import)
    from motcua.merger_day import register as register_agencies
    register_agencies(sub, _settings)
    reports = sub.add_parser("reports", help="statistics")
    reports_sub = reports.add_subparsers(dest="reports_command", required=True)
    verify = reports_sub.add_parser("verify", help="recount the report from the dossiers and print differing cells")
    verify.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    verify.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
    verify.add_argument("--group-by", action="append", choices=["agency", "field", "procedure"])
    verify.set_defaults(func=cmd_reports_verify)
    indicators = reports_sub.add_parser("indicators", help="the national service index (Decision 766)")
    indicators_sub = indicators.add_subparsers(dest="indicators_command", required=True)
    index_verify = indicators_sub.add_parser(
        "verify", help="recount every 766 indicator from the dossiers and print the differences (0 expected)")
    index_verify.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    index_verify.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
    index_verify.add_argument("--agency", action="append", help="only this agency (repeatable)")
    index_verify.set_defaults(func=cmd_reports_indicators_verify)

    privacy = sub.add_parser("privacy", help="personal data: export and retention")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    exp = privacy_sub.add_parser("export", help="everything held about one citizen, as JSON")
    exp.add_argument("--id-number", required=True, help="the citizen's CCCD (12 digits) or CMND (9 digits)")
    exp.add_argument("--out", help="write the JSON here instead of stdout")
    exp.add_argument("--with-files", action="store_true", help="embed each file's bytes (base64)")
    exp.set_defaults(func=cmd_privacy_export)
    purge = privacy_sub.add_parser("purge", help="delete files of dossiers closed longer than the retention period")
    purge.add_argument("--dry-run", action="store_true", help="list what would be purged, change nothing")
    purge.add_argument("--years", type=int, help="retention in years (default MOTCUA_ATTACHMENT_RETENTION_YEARS, 5)")
    purge.set_defaults(func=cmd_privacy_purge)

    accounts = sub.add_parser("accounts", help="citizen accounts")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    acc_imp = accounts_sub.add_parser("import", help="load legacy accounts (and old dossiers) from CSV, all or nothing")
    acc_imp.add_argument("file", help="accounts CSV: legacy_id,id_number,full_name,phone")
    acc_imp.add_argument("--dossiers", help="old dossiers CSV (see docs/security.md, Privacy)")
    acc_imp.set_defaults(func=cmd_accounts_import)

    legacy_cmd = sub.add_parser("legacy", help="data of the old one-stop system (v1)")
    legacy_sub = legacy_cmd.add_subparsers(dest="legacy_command", required=True)
    v1 = legacy_sub.add_parser("import-dossiers", help="import v1 dossiers as live dossiers, all or nothing "
                                                      "(docs/national-portal.md)")
    v1.add_argument("file", help="CSV or JSON, one v1 dossier per row")
    v1.add_argument("--json", action="store_true", help="the file is JSON (default: by its .json extension)")
    v1.set_defaults(func=cmd_legacy_import_dossiers)

    payments = sub.add_parser("payments", help="online fee payments")
    payments_sub = payments.add_subparsers(dest="payments_command", required=True)
    reconcile = payments_sub.add_parser("reconcile", help="querydr every payment still pending and apply the answers")
    reconcile.add_argument("--min-age-minutes", type=int, default=None,
                           help="only payments older than this (default MOTCUA_RECONCILE_AFTER_MINUTES, 15)")
    reconcile.set_defaults(func=cmd_payments_reconcile)
    report = payments_sub.add_parser("report", help="compare the ledger of one local day with the provider")
    report.add_argument("--date", required=True, help="YYYY-MM-DD, Asia/Ho_Chi_Minh")
    report.add_argument("--settlement", help="the provider's settlement CSV (default: querydr each payment)")
    report.add_argument("--layout", help="JSON describing the settlement CSV's columns (see docs/payments.md)")
    report.add_argument("--csv", help="also write the report as CSV to this file")
    report.add_argument("--xlsx", help="also write the report as XLSX to this file")
    report.set_defaults(func=cmd_payments_report)

    sync = sub.add_parser("sync", help="national portal sync operations")
    sync_sub = sync.add_subparsers(dest="sync_command", required=True)
    sync_sub.add_parser("redrive", help="replay the national-sync DLQ").set_defaults(func=cmd_sync_redrive)
    fill = sync_sub.add_parser("backfill", help="re-send every dossier whose sync ledger is behind")
    fill.add_argument("--since", required=True, help="submitted on or after this ISO date, e.g. 2025-07-01")
    fill.add_argument("--agency", action="append", help="agency_id; repeatable (default: every catalogue agency)")
    fill.set_defaults(func=cmd_sync_backfill)
    resend = sync_sub.add_parser("resend", help="send one dossier to the national portal again as it is now "
                                                "(after fixing what the portal refused)")
    resend.add_argument("code", help="the dossier code")
    resend.set_defaults(func=cmd_sync_resend)
    refused = sync_sub.add_parser("rejected", help="list dossiers whose record the national portal refused for its "
                                                   "data (exit 1 when there is one)")
    refused.add_argument("--since", required=True, help="submitted on or after this ISO date, e.g. 2025-07-01")
    refused.add_argument("--agency", action="append", help="agency_id; repeatable (default: every catalogue agency)")
    refused.set_defaults(func=cmd_sync_rejected)
    show = sync_sub.add_parser("show", help="print the exact records the national portal would receive for a dossier")
    show.add_argument("code", help="the dossier code")
    show.set_defaults(func=cmd_sync_show)
    check = sync_sub.add_parser("check", help="check every open dossier's records against the portal's profile "
                                              "(exit 1 when a record would cost the province)")
    check.add_argument("--agency", action="append", help="agency_id; repeatable (default: every catalogue agency)")
    check.set_defaults(func=cmd_sync_check)

    hostile = sub.add_parser("hostile", help="issue 18's black-box hostile checks against a local stack; "
                                             "exit 1 on any failure")
    hostile.add_argument("--url", help="a running local stack, e.g. http://127.0.0.1:8000 (`make run`); "
                                       "default: start one on free loopback ports and stop it afterwards")
    hostile.add_argument("--log", help="with --url: the stack's captured output (`make run 2>&1 | tee run.log`), "
                                       "checked for secrets; without it that check is skipped")
    hostile.set_defaults(func=cmd_hostile)

    notifications = sub.add_parser("notifications", help="notifications sent by the local stack")
    notifications_sub = notifications.add_subparsers(dest="notifications_command", required=True)
    tail = notifications_sub.add_parser("tail", help="print what every channel sent (SMS, Zalo, email)")
    tail.add_argument("--follow", action="store_true", help="keep printing new notifications")
    tail.add_argument("--json", action="store_true", help="print the sink's JSON lines as they are")
    tail.set_defaults(func=cmd_notifications_tail)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
