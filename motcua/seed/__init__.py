"""Sample data for the local stack. Everything here is labelled SAMPLE DATA."""
from __future__ import annotations

from pathlib import Path


def seed_path() -> Path:
    """The sample catalogue shipped with the project."""
    return Path(__file__).resolve().parent / "catalogue.json"


def seed_catalogue() -> int:
    """Load the sample catalogue into the catalogue table. Returns items written."""
    from chalicelib.catalogue.rules.merger import keep_retirements
    from chalicelib.catalogue.rules.procedures import load_catalogue_file
    from chalicelib.catalogue.store.procedures import save_catalogue, snapshot

    agencies, procedures = load_catalogue_file(seed_path())
    current = snapshot()   # seeding again after a merger day keeps what it did
    agencies, procedures, _kept = keep_retirements(agencies, procedures, current.agencies, current.procedures)
    return save_catalogue(agencies, procedures)
