"""Use cases of the privacy tools: everything held about one citizen (export) and the retention
purge of closed dossiers' files. `motcua privacy export|purge` and handlers/retention.py call
these; the rules are in chalicelib/trust/rules/privacy.py, the storage in privacy_store.py."""
from __future__ import annotations

import base64
from datetime import datetime, UTC
from typing import Any
from collections.abc import Callable, Iterable

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.payments.use_cases import reads as payment_reads
from chalicelib.trust.store import privacy as privacy_store
from chalicelib.dossiers.use_cases import reads as dossier_reads
from chalicelib.dossiers.use_cases import file_links
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.sync.use_cases import status as sync_status
from chalicelib.kernel.working_days import iso, to_local
from chalicelib.runtime.settings import settings
from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.runtime.log import logger as make_logger
from chalicelib.trust.rules.privacy import (
    EXPORT_FORMAT, mark_purged, payment_ids, retention_cutoff, stored_files, valid_id_number,
)

logger = make_logger("motcua-privacy")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def record_sensitive_read(actor: str, action: str, id_number: str, dossier_codes: list[str]) -> None:
    """The export is a sensitive read about one person: filed in the audit log under the id
    number's keyed digest (never the number itself) before the data leaves. Raises 503 if the
    record cannot be written, so nothing is exported unaudited."""
    from chalicelib.trust.rules import audit
    from chalicelib.trust.store import audit as audit_store
    from chalicelib.runtime.credentials import id_hash_key
    audit_store.append_read(audit.Actor(actor, "operator"), action, subject=audit.subject_key(id_number, id_hash_key()),
                            detail={"dossiers": len(dossier_codes)})

def _check_id_number(id_number: str) -> str:
    value = (id_number or "").strip()
    if not valid_id_number(value):
        raise ValidationFailed(fields={"id_number": "Số định danh gồm 12 chữ số (CCCD) hoặc 9 chữ số (CMND)."})
    return value


def _file_entry(file: Any, with_files: bool, purged: bool) -> dict[str, Any]:
    entry = {"name": file.name, "kind": file.kind, "uploaded_by": file.uploaded_by,
             "key": privacy_store.file_key(file), "purged": purged}
    if with_files and not purged:
        content = privacy_store.read_file(file)
        entry["content_base64"] = base64.b64encode(content).decode() if content is not None else None
    return entry


def _dossier_record(dossier: Dossier, with_files: bool) -> dict[str, Any]:
    code = dossier["code"]
    _, ledger = sync_status.read(code)
    purged = bool(dossier.get("attachments_purged_at"))
    return {
        "dossier": dossier,
        "events": dossier_reads.dossier_events(code),
        "payments": [p for p in (payment_reads.get_payment(pid) for pid in payment_ids(dossier)) if p],
        "notifications": privacy_store.notifications_of(code),
        "attachments": [_file_entry(f, with_files, purged) for f in stored_files(dossier)],
        "rating": dossier.get("rating"),
        "national_sync": sync_status.view_of(dossier, ledger),
    }


def export(id_number: str, *, actor: str, with_files: bool = False, clock: Clock = utc_now) -> dict[str, Any]:
    """Everything MotCua holds about the citizen with this id number (format in docs/security.md, Privacy)."""
    from chalicelib.trust.store import legacy as legacy_store
    id_number = _check_id_number(id_number)
    codes = privacy_store.dossier_codes_of(id_number)
    dossiers = [d for d in (dossier_reads.get_dossier(code) for code in codes) if d]
    account, legacy_dossiers = legacy_store.partition(id_number)
    record_sensitive_read(actor, "privacy.export", id_number, codes)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": iso(to_local(clock())),
        "subject": {"id_number": id_number},
        "dossiers": [_dossier_record(d, with_files) for d in dossiers],
        "legacy": {"account": account, "dossiers": legacy_dossiers} if account else None,
    }


def purge(*, dry_run: bool = False, years: int | None = None, agencies: Iterable[str] | None = None,
          clock: Clock = utc_now) -> dict[str, Any]:
    """Delete the files of dossiers closed more than ``years`` (MOTCUA_ATTACHMENT_RETENTION_YEARS)
    ago and mark them purged. A dossier changed meanwhile is skipped and found again next run."""
    now = to_local(clock())
    years = settings().attachment_retention_years if years is None else years
    cutoff = retention_cutoff(now.date(), years)
    cutoff_iso = f"{cutoff.isoformat()}T00:00:00+07:00"
    purged: list[str] = []
    files = skipped = 0
    for agency in sorted(agencies if agencies is not None else catalogue.snapshot().agencies):
        for dossier in privacy_store.closed_before(agency, cutoff_iso):
            found = stored_files(dossier)
            if not dry_run:
                privacy_store.delete_files(found)
                file_links.revoke_dossier(dossier)   # the national portal's links to them stop at once
                try:
                    privacy_store.save_purged(mark_purged(dossier, at=iso(now), files=len(found)))
                except Conflict:
                    skipped += 1
                    continue
            purged.append(dossier["code"])
            files += len(found)
    summary = {"dry_run": dry_run, "closed_before": cutoff_iso, "retention_years": years,
               "dossiers": len(purged), "files": files, "skipped": skipped, "codes": purged}
    logger.info("retention purge", extra={k: v for k, v in summary.items() if k != "codes"})
    return summary
