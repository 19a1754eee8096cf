"""Sync ledger repository: one item per dossier next to it in the dossiers table.

The ledger says which dossier version the national portal has. Every write is conditional
on what was read, so two deliveries racing (a duplicate, a redrive) can never move it back
or count an attempt twice; a stale write simply loses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.runtime.settings import settings
from chalicelib.runtime import resources
from chalicelib.runtime import tables
from chalicelib.runtime.models import SyncLedgerItem
from chalicelib.runtime.tables import connection, dossier_pk
from chalicelib.dossiers.rules.records import Dossier

LEDGER_SK = "SYNC#national"
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Ledger:
    version: int
    state: str
    attempts: int
    last_error: str | None
    synced_at: str | None
    on_portal: bool = False      # the portal has the dossier: the next DongBoHoSoMC is an update
    # the version whose record the portal refused, kept until a later delivery is accepted
    # (a transient failure of that later delivery leaves it: the retry must still send it all)
    rejected_version: int | None = None

    @property
    def rejected(self) -> bool:
        return self.rejected_version is not None


REJECTED = "rejected"


def _ledger(item: SyncLedgerItem) -> Ledger:
    on_portal = item.on_portal if item.on_portal is not None else int(item.version) > 0
    rejected = int(item.rejected_version) if item.rejected_version is not None else None
    return Ledger(int(item.version), item.state, int(item.attempts), item.last_error, item.synced_at, on_portal,
                  rejected)


def read(code: str) -> tuple[Dossier | None, Ledger | None]:
    """The whole dossier (one Query of its items) and its ledger (one GetItem), both strongly
    consistent."""
    dossier = tables.get_dossier(code)
    try:
        ledger = _ledger(SyncLedgerItem.get(dossier_pk(code), LEDGER_SK, consistent_read=True))
    except DoesNotExist:
        ledger = None
    return cast(Dossier | None, dossier), ledger


def ledgers(codes: list[str]) -> dict[str, Ledger]:
    """Ledgers of up to 100 dossiers, for the backfill."""
    if not codes:
        return {}
    table = settings().name(resources.DOSSIERS.name)
    keys = [{"pk": {"S": dossier_pk(code)}, "sk": {"S": LEDGER_SK}} for code in codes]
    found: dict[str, Ledger] = {}
    request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
    while request:
        answer = connection().client.batch_get_item(RequestItems=request)
        for raw in answer.get("Responses", {}).get(table, []):
            found[raw["pk"]["S"].removeprefix("DOSSIER#")] = _ledger(SyncLedgerItem.from_raw_data(raw))
        request = answer.get("UnprocessedKeys") or {}
    return found


def _same_version(ledger: Ledger | None) -> Any:
    if ledger is None or ledger.version == 0:
        return SyncLedgerItem.pk.does_not_exist() | (SyncLedgerItem.version == 0)
    return SyncLedgerItem.version == ledger.version


def _unchanged(ledger: Ledger | None) -> Any:
    if ledger is None:
        return SyncLedgerItem.pk.does_not_exist()
    return (SyncLedgerItem.version == ledger.version) & (SyncLedgerItem.attempts == ledger.attempts)


def _put(item: SyncLedgerItem, condition: Any) -> bool:
    try:
        item.save(condition=condition)
        return True
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def advance(code: str, ledger: Ledger | None, *, version: int, at: str, on_portal: bool = True) -> bool:
    """The portal now has ``version``. False if another delivery moved the version first; a
    failure recorded meanwhile by a delivery of a later version does not block it."""
    item = SyncLedgerItem(pk=dossier_pk(code), sk=LEDGER_SK, version=version, state="synced", attempts=0,
                          last_error=None, synced_at=at, updated_at=at, on_portal=on_portal)
    return _put(item, _same_version(ledger))


def enter_unsynced(code: str, at: str) -> bool:
    """A dossier the portal has never had from MotCua (an imported v1 dossier): version 0,
    ``pending``, so ``motcua sync backfill`` finds it behind. False if it has a ledger already."""
    item = SyncLedgerItem(pk=dossier_pk(code), sk=LEDGER_SK, version=0, state="pending", attempts=0,
                          last_error=None, synced_at=None, updated_at=at, on_portal=False)
    return _put(item, SyncLedgerItem.pk.does_not_exist())


def record_failure(code: str, ledger: Ledger | None, *, error: str, dead: bool, at: str,
                   on_portal: bool = False) -> bool:
    """A failed delivery; ``on_portal``: a create went through before the failure (the
    retry must send an update), kept once known; so is a refused version."""
    item = SyncLedgerItem(pk=dossier_pk(code), sk=LEDGER_SK, version=ledger.version if ledger else 0,
                          state="dead" if dead else "retrying", attempts=(ledger.attempts if ledger else 0) + 1,
                          last_error=error[:MAX_ERROR_CHARS], synced_at=ledger.synced_at if ledger else None,
                          updated_at=at, on_portal=on_portal or bool(ledger and ledger.on_portal),
                          rejected_version=ledger.rejected_version if ledger else None)
    return _put(item, _unchanged(ledger))


def record_rejection(code: str, ledger: Ledger | None, *, version: int, error: str, at: str,
                     on_portal: bool = False) -> bool:
    """The portal refused ``version`` itself (bad data): ``rejected`` with the portal's message,
    the version it refused, and ``version`` still the last one it took. Not retried; the
    dossier's next change, ``motcua sync resend`` or the backfill send the dossier again."""
    item = SyncLedgerItem(pk=dossier_pk(code), sk=LEDGER_SK, version=ledger.version if ledger else 0,
                          state=REJECTED, attempts=(ledger.attempts if ledger else 0) + 1,
                          last_error=error[:MAX_ERROR_CHARS], synced_at=ledger.synced_at if ledger else None,
                          updated_at=at, on_portal=on_portal or bool(ledger and ledger.on_portal),
                          rejected_version=version)
    return _put(item, _unchanged(ledger))


def sync_view(ledger: Ledger | None, dossier_version: int) -> dict[str, Any]:
    """What GET /dossiers/{code} shows: ``pending`` until the portal has the current version;
    ``rejected`` with ``rejected_version`` when the portal refused a version's record."""
    if ledger is None:
        return {"state": "pending", "version": None, "synced_at": None, "last_error": None, "attempts": 0}
    state = ledger.state
    if state == "synced" and ledger.version < dossier_version:
        state = "pending"
    view = {"state": state, "version": ledger.version or None, "synced_at": ledger.synced_at,
            "last_error": ledger.last_error, "attempts": ledger.attempts}
    if ledger.rejected:
        view["rejected_version"] = ledger.rejected_version
    return view


def view_of(dossier: Dossier, ledger: Ledger | None) -> dict[str, Any]:
    return sync_view(ledger, dossier["version"])
