"""The dossiers table's shared basics: its dossier key, the one pynamodb connection for
transactions, and reading one dossier.

Split from chalicelib.store, which also holds the write path (audit records, the privacy
index, due dates). Consumers that only read a dossier or share the connection (the report
projection, national sync, notifications, refund watch) import this module, so their cold
start does not load what only the API's writes need.
"""
from __future__ import annotations

import json
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist

from chalicelib.config import settings
from chalicelib.models import DossierItem


def dossier_pk(code: str) -> str:
    return f"DOSSIER#{code}"


@cache
def connection() -> Connection:
    """One connection (one botocore client) per warm Lambda for transactions."""
    cfg = settings()
    return Connection(region=cfg.region, host=cfg.aws_endpoint_url)


def get_dossier(code: str) -> dict[str, Any] | None:
    """One GetItem, strongly consistent so a transition reads the latest version."""
    try:
        item = DossierItem.get(dossier_pk(code), "DOSSIER", consistent_read=True)
    except DoesNotExist:
        return None
    return json.loads(item.body)
