"""Repository of legacy accounts and their old dossiers: one partition per citizen,
``LEGACY#{hmac of id number}``, holding the account (``ACCOUNT``) and its dossiers
(``DOSSIER#{code}``), so login, list and export read it with one Query."""
from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.runtime.models import LegacyItem
from chalicelib.trust.rules.privacy import id_number_hash
from chalicelib.runtime.credentials import id_hash_key

ACCOUNT = "ACCOUNT"


def legacy_pk(id_number: str) -> str:
    return f"LEGACY#{id_number_hash(id_number, id_hash_key())}"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def partition(id_number: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the account with its ``linked_sub``, its old dossiers), or (None, []). One Query."""
    account: dict[str, Any] | None = None
    dossiers: list[dict[str, Any]] = []
    for item in LegacyItem.query(legacy_pk(id_number)):
        if item.sk == ACCOUNT:
            account = {**json.loads(item.body), "linked_sub": item.linked_sub}
        else:
            dossiers.append(json.loads(item.body))
    return account, dossiers


def link(id_number: str, sub: str) -> bool:
    """Attach the account to ``sub`` unless it is attached to someone else. Idempotent: the
    same sub again succeeds; a different sub is refused by the condition (False)."""
    item = LegacyItem(pk=legacy_pk(id_number), sk=ACCOUNT)
    try:
        item.update(actions=[LegacyItem.linked_sub.set(sub)],
                    condition=LegacyItem.pk.exists() & (LegacyItem.linked_sub.does_not_exist()
                                                        | (LegacyItem.linked_sub == sub)))
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def save(accounts: list[dict[str, Any]], dossiers: list[dict[str, Any]]) -> int:
    """Write accounts (keeping an existing link) and dossiers; returns the items written.
    Re-importing the same files rewrites the same items."""
    by_legacy_id = {account["legacy_id"]: account["id_number"] for account in accounts}
    for account in accounts:
        LegacyItem(pk=legacy_pk(account["id_number"]), sk=ACCOUNT).update(
            actions=[LegacyItem.body.set(_dumps(account))])
    with LegacyItem.batch_write() as batch:
        for dossier in dossiers:
            batch.save(LegacyItem(pk=legacy_pk(by_legacy_id[dossier["legacy_id"]]), sk=f"DOSSIER#{dossier['code']}",
                                  body=_dumps(dossier)))
    return len(accounts) + len(dossiers)
