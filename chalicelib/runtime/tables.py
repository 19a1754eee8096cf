"""The dossiers table's shared basics: its dossier key, the pynamodb connection for
transactions (chalicelib.runtime.aws.dynamodb_connection), and reading one dossier.

Split from chalicelib.dossiers.store.dossiers, which also holds the write path (audit records, the privacy
index, due dates). Consumers that only read a dossier or share the connection (the report
projection, national sync, notifications, refund watch) import this module, so their cold
start does not load what only the API's writes need.
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.runtime.aws import dynamodb_connection as connection  # noqa: F401 (one per warm Lambda)
from chalicelib.runtime.models import DossierItem


def dossier_pk(code: str) -> str:
    return f"DOSSIER#{code}"


def get_dossier(code: str) -> dict[str, Any] | None:
    """One GetItem, strongly consistent so a transition reads the latest version."""
    try:
        item = DossierItem.get(dossier_pk(code), "DOSSIER", consistent_read=True)
    except DoesNotExist:
        return None
    return json.loads(item.body)
