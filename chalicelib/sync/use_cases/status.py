"""A dossier's national portal sync status, as the dossier read and the privacy export show
it. Other contexts ask here, never the sync ledger store (import contracts in pyproject.toml)."""
from __future__ import annotations

from chalicelib.sync.store.sync_ledger import read, view_of

__all__ = ["read", "view_of"]
