"""The dossier reads other contexts make (reports, the privacy export). They come here, never
to the dossiers store, so the store stays the dossiers context's own (import contracts in
pyproject.toml)."""
from __future__ import annotations

from chalicelib.dossiers.store.dossiers import dossier_events, dossiers_received_between, dossiers_received_until, get_dossier

__all__ = ["dossier_events", "dossiers_received_between", "dossiers_received_until", "get_dossier"]
