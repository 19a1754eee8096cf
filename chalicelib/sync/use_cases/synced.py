"""Which dossiers the national portal has (the 766 index's 1.4 reads it, through here)."""
from __future__ import annotations

from chalicelib.sync.store.sync_ledger import ledgers


def synced_codes(codes: list[str]) -> set[str]:
    """The dossiers of ``codes`` of which at least one version reached the national portal."""
    found: set[str] = set()
    for start in range(0, len(codes), 100):
        found |= {code for code, ledger in ledgers(codes[start:start + 100]).items() if ledger.version >= 1}
    return found
