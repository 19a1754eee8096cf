"""Legacy accounts: import them (`motcua accounts import`), link one to the citizen who logs in
with the same id number, and show that citizen their old dossiers.

Linking happens on the citizen's first list or read of dossiers whose token carries an id
number claim (the identity provider, e.g. VNeID, vouches for it): one Query of the legacy
partition, then, the first time only, one conditional UpdateItem that sets ``linked_sub``. A
second login with the same sub finds it linked; a different sub with the same number is
refused and logged (an operator resolves it), never silently re-linked.
"""
from __future__ import annotations

from typing import Any

from chalicelib.trust.rules import legacy
from chalicelib.trust.store import legacy as legacy_store
from chalicelib.trust.store import privacy as privacy_store
from chalicelib.trust.rules.identity import Identity
from chalicelib.runtime.log import logger as make_logger

logger = make_logger("motcua-legacy")


def import_records(accounts: list[dict[str, Any]], dossiers: list[dict[str, Any]]) -> dict[str, Any]:
    """Write validated records and say which accounts already match MotCua dossiers (same id
    number) and which do not yet (they link when the citizen first logs in)."""
    legacy_store.save(accounts, dossiers)
    per_account = {account["legacy_id"]: 0 for account in accounts}
    for dossier in dossiers:
        per_account[dossier["legacy_id"]] += 1
    matched: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for account in accounts:
        existing = len(privacy_store.dossier_codes_of(account["id_number"]))
        entry = {"legacy_id": account["legacy_id"], "legacy_dossiers": per_account[account["legacy_id"]],
                 "motcua_dossiers": existing}
        (matched if existing else unmatched).append(entry)
    return {"accounts": len(accounts), "dossiers": len(dossiers), "matched": matched, "unmatched": unmatched}


def linked_account(identity: Identity) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The caller's legacy account and old dossiers, linking them on first sight; None if the
    caller is not a citizen with an id number, has no legacy account, or another login owns it."""
    if identity.role != "citizen" or not identity.id_number:
        return None
    account, dossiers = legacy_store.partition(identity.id_number)
    if account is None:
        return None
    if account["linked_sub"] != identity.sub:
        if account["linked_sub"] is not None or not legacy_store.link(identity.id_number, identity.sub):
            logger.warning("legacy account already linked to another login",
                           extra={"legacy_id": account["legacy_id"]})
            return None
        logger.info("legacy account linked", extra={"legacy_id": account["legacy_id"], "dossiers": len(dossiers)})
    return account, dossiers


def list_items(identity: Identity) -> list[dict[str, Any]] | None:
    """The caller's old dossiers for the first page of GET /dossiers (None: nothing to add)."""
    found = linked_account(identity)
    if found is None:
        return None
    account, dossiers = found
    return [legacy.list_view(d, account["full_name"]) for d in sorted(dossiers, key=lambda d: d["submitted_at"],
                                                                       reverse=True)]


def read(code: str, identity: Identity) -> dict[str, Any] | None:
    """One old dossier of the caller, or None."""
    found = linked_account(identity)
    if found is None:
        return None
    account, dossiers = found
    match = next((d for d in dossiers if d["code"] == code), None)
    return legacy.full_view(match, account["full_name"]) if match else None
