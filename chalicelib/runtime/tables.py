"""The dossiers table's shared basics: its dossier key, the pynamodb connection for
transactions (chalicelib.runtime.aws.dynamodb_connection), reading one dossier, and
``from_item``: the one place a dossier item becomes a Dossier (chalicelib.dossiers.rules.records),
used by every store that reads dossier items. The other way, ``to_item``, is in
chalicelib.dossiers.store.dossiers, the only writer.

Split from chalicelib.dossiers.store.dossiers, which also holds the write path (audit records, the privacy
index, due dates). Consumers that only read a dossier or share the connection (the report
projection, national sync, notifications, refund watch) import this module, so their cold
start does not load what only the API's writes need.
"""
from __future__ import annotations

import json

from pynamodb.exceptions import DoesNotExist

from chalicelib.runtime.aws import dynamodb_connection as connection  # noqa: F401 (one per warm Lambda)
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.runtime.models import DossierItem


def dossier_pk(code: str) -> str:
    return f"DOSSIER#{code}"


def get_dossier(code: str) -> Dossier | None:
    """One GetItem, strongly consistent so a transition reads the latest version."""
    try:
        item = DossierItem.get(dossier_pk(code), "DOSSIER", consistent_read=True)
    except DoesNotExist:
        return None
    return from_item(item)


def from_item(item: DossierItem) -> Dossier:
    """The dossier an item holds: its ``body`` is the whole dossier (the other attributes are
    derived from it for keys and indexes)."""
    dossier: Dossier = json.loads(item.body)
    return dossier
