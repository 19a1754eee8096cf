"""Sample data for the local stack. Everything here is labelled SAMPLE DATA."""
from __future__ import annotations

from pathlib import Path


def seed_path() -> Path:
    """The sample catalogue shipped with the project."""
    return Path(__file__).resolve().parent / "catalogue.json"


def seed_catalogue() -> int:
    """Load the sample catalogue into the catalogue table. Returns items written."""
    from chalicelib.catalogue.rules.procedures import load_catalogue_file
    from chalicelib.catalogue.store.procedures import save_catalogue

    agencies, procedures = load_catalogue_file(seed_path())
    return save_catalogue(agencies, procedures)
