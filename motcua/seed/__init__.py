"""Sample data for the local stack. Everything here is labelled SAMPLE DATA."""
from __future__ import annotations


def seed_catalogue() -> int:
    """Load motcua/seed/catalogue.json into the catalogue table. Returns items written."""
    from chalicelib.catalogue import load_catalogue_file, seed_path
    from chalicelib.catalogue_store import save_catalogue

    agencies, procedures = load_catalogue_file(seed_path())
    return save_catalogue(agencies, procedures)
