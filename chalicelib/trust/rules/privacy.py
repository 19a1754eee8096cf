"""Personal-data rules: how an id number is looked up, which files a dossier holds, when its
files may be purged, and what a citizen's data export looks like. Pure: no AWS here.

* **Lookup by id number.** Dossiers are found by an HMAC-SHA256 of the applicant's id number
  (keyed by chalicelib.runtime.credentials.id_hash_key: the stage's ``id-hash`` secret, or
  MOTCUA_ID_HASH_KEY locally), never by the number itself: a 12-digit number hashed
  without a key could be recovered by trying every number.
* **Retention.** A dossier is *closed* once it is returned, refused, withdrawn or stopped
  (transitions.CLOSED). MOTCUA_ATTACHMENT_RETENTION_YEARS (default 5) after it closed, its
  uploaded files are deleted and the dossier is marked ``attachments_purged_at``. Its status,
  version, decisions and dates are untouched, so the form-06 counters and their recount stay
  exactly as they were.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from collections.abc import Iterator, Mapping

from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.transitions import CLOSED

EXPORT_FORMAT = "motcua-privacy-export/1"
ID_NUMBER = re.compile(r"^(?:[0-9]{12}|[0-9]{9})\Z")   # CCCD (12 digits) or the older CMND (9)
# The decision that closes a dossier in each closed status.
CLOSING_ACTIONS = {"returned": "return_result", "refused": "refuse", "withdrawn": "withdraw", "stopped": "stop"}


def valid_id_number(value: object) -> bool:
    return isinstance(value, str) and bool(ID_NUMBER.match(value))


def id_number_hash(id_number: str, key: str) -> str:
    """The lookup key of an id number (hex HMAC-SHA256)."""
    return hmac.new(key.encode(), id_number.strip().encode(), hashlib.sha256).hexdigest()


def closed_at(dossier: Mapping[str, Any]) -> str | None:
    """When the dossier closed (ISO, +07:00), or None while it is open."""
    status = dossier.get("status")
    if status not in CLOSED:
        return None
    action = CLOSING_ACTIONS[status]
    moments = [d.get("effective_at") or d["at"] for d in dossier.get("decisions", []) if d.get("action") == action]
    return moments[-1] if moments else dossier.get(f"{status}_at") or dossier.get("submitted_at")


def retention_index(dossier: Dossier) -> tuple[str, str] | None:
    """(agency, closed_at) for the sparse ``closed_by_agency`` index: only closed dossiers whose
    files have not been purged yet, so the purge job reads exactly what it may purge."""
    if dossier.get("attachments_purged_at"):
        return None
    at = closed_at(dossier)
    return (dossier["agency_id"], at) if at else None


def retention_cutoff(today: date, years: int) -> date:
    """The day ``years`` before ``today`` (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


@dataclass(frozen=True)
class StoredFile:
    """One uploaded file of a dossier: who uploaded it (the S3 key is namespaced by uploader)."""
    upload_id: str
    name: str
    uploaded_by: str
    kind: str            # submission | supplement | result


def stored_files(dossier: Dossier) -> list[StoredFile]:
    """Every uploaded file a dossier refers to. Submission files were uploaded by the owner
    (online) or the desk officer (``received_by``); supplements by ``supplied_by``; result
    documents by the officer who issued them."""
    files: dict[str, StoredFile] = {}
    for request in dossier.get("supplements") or []:
        supplied_by = request.get("supplied_by") or ""   # only a supplied request has attachments
        for item in request.get("attachments") or []:
            files[item["upload_id"]] = StoredFile(item["upload_id"], item["name"], supplied_by, "supplement")
    submitter = dossier.get("received_by") or dossier["owner_sub"]
    for item in dossier.get("attachments") or []:
        files.setdefault(item["upload_id"], StoredFile(item["upload_id"], item["name"], submitter, "submission"))
    result = dossier.get("result")
    if result:
        for item in result.get("documents") or []:
            files.setdefault(item["upload_id"], StoredFile(item["upload_id"], item["name"], result["issued_by"], "result"))
    return list(files.values())


def mark_purged(dossier: Dossier, *, at: datetime | str, files: int) -> Dossier:
    """Record the purge on the dossier. Status and version stay: nothing downstream re-counts."""
    dossier["attachments_purged_at"] = at if isinstance(at, str) else at.isoformat()
    dossier["attachments_purged_count"] = files
    return dossier


def notification_view(sk: str, state: str, at: str, provider_id: str | None) -> dict[str, Any]:
    """A delivery record (``NOTIFY#{event_id}#{channel}``) as the export shows it."""
    _, event_id, channel = sk.split("#", 2)
    return {"event_id": event_id, "channel": channel, "state": state, "at": at, "provider_id": provider_id}


def payment_ids(dossier: Dossier) -> Iterator[str]:
    """The payments a dossier's ledger refers to."""
    ledger = dossier.get("payment")
    for entry in ledger.get("payments") or [] if ledger else []:
        yield entry["payment_id"]
