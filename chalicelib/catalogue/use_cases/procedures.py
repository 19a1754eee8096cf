"""Use cases of the catalogue: find procedures, read one. Other contexts read the catalogue here."""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.catalogue.rules.procedures import Procedure, search
from chalicelib.catalogue.store import procedures as catalogue_store
from chalicelib.catalogue.store.procedures import agency, agency_name, procedure, snapshot  # noqa: F401 (other contexts read the catalogue here)
from chalicelib.kernel.errors import NotFound


def get_procedure(code: str) -> Procedure:
    found = catalogue_store.procedure(code)
    if found is None:
        raise NotFound("Không tìm thấy thủ tục hành chính với mã đã cho.", code="unknown_procedure")
    return found


def find_procedures(*, agency_id: str | None, q: str | None) -> Iterable[Procedure]:
    return search(catalogue_store.snapshot().procedures.values(), agency_id=agency_id, q=q)
