"""Pure privacy rules: id number lookup hashes, when a dossier closed, what may be purged,
which files a dossier holds, and the legacy import files."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.trust.rules.legacy import LegacyImportError, parse_files
from chalicelib.trust.rules.privacy import (
    closed_at, id_number_hash, mark_purged, retention_cutoff, retention_index, stored_files, valid_id_number,
)


def dossier(status="returned", **over):
    base = {"code": "A-1", "status": status, "agency_id": "AG", "owner_sub": "citizen-1", "submitted_at": "2020-01-02T08:00:00+07:00",
            "decisions": [{"action": "accept", "at": "2020-01-02T09:00:00+07:00"},
                          {"action": "issue_result", "at": "2020-01-05T09:00:00+07:00"},
                          {"action": "return_result", "at": "2020-01-06T10:00:00+07:00"},
                          {"action": "rate", "at": "2020-01-07T10:00:00+07:00"}],
            "attachments": [{"upload_id": "a" * 32, "name": "don.pdf"}, {"upload_id": "b" * 32, "name": "bo-sung.pdf"}],
            "supplements": [{"supplied_by": "citizen-1", "attachments": [{"upload_id": "b" * 32, "name": "bo-sung.pdf"}]}],
            "result": {"issued_by": "officer-9", "documents": [{"upload_id": "c" * 32, "name": "kq.pdf"}]}}
    base.update(over)
    return base


def test_the_lookup_hash_is_keyed_and_stable():
    assert id_number_hash("079301009876", "k1") == id_number_hash(" 079301009876 ", "k1")
    assert id_number_hash("079301009876", "k1") != id_number_hash("079301009876", "k2")
    assert valid_id_number("079301009876") and valid_id_number("212345678")
    assert not valid_id_number("2123456789") and not valid_id_number(79301009876)


def test_a_dossier_closes_with_its_closing_decision_not_a_later_rating():
    assert closed_at(dossier()) == "2020-01-06T10:00:00+07:00"
    assert closed_at(dossier("processing")) is None and closed_at(dossier("finished")) is None
    refused = dossier("refused", decisions=[{"action": "refuse", "at": "2020-01-03T08:00:00+07:00",
                                            "effective_at": "2020-01-02T16:00:00+07:00"}])
    assert closed_at(refused) == "2020-01-02T16:00:00+07:00"


def test_only_closed_unpurged_dossiers_enter_the_retention_index():
    assert retention_index(dossier()) == ("AG", "2020-01-06T10:00:00+07:00")
    assert retention_index(dossier("accepted")) is None
    purged = mark_purged(dossier(), at="2026-01-01T00:00:00+07:00", files=3)
    assert retention_index(purged) is None and purged["status"] == "returned"


def test_retention_cutoff_counts_whole_years_and_handles_29_february():
    assert retention_cutoff(date(2026, 11, 22), 5) == date(2021, 11, 22)
    assert retention_cutoff(date(2028, 2, 29), 5) == date(2023, 2, 28)


def test_each_file_is_attributed_to_whoever_uploaded_it():
    files = {f.upload_id[0]: (f.uploaded_by, f.kind) for f in stored_files(dossier())}
    assert files == {"a": ("citizen-1", "submission"), "b": ("citizen-1", "supplement"), "c": ("officer-9", "result")}
    desk = stored_files(dossier(received_by="officer-desk", owner_sub="desk:officer-desk", supplements=[], result=None))
    assert {f.uploaded_by for f in desk} == {"officer-desk"}


def test_legacy_files_are_checked_whole():
    accounts, dossiers = parse_files("legacy_id,id_number,full_name,phone\nL1,079301009876,An,\n",
                                     "legacy_id,code,procedure_code,procedure_name,agency_id,status,submitted_at,"
                                     "closed_at,summary\nL1,HS1,1.001193,,,returned,2019-05-02,,\n")
    assert accounts == [{"legacy_id": "L1", "id_number": "079301009876", "full_name": "An", "phone": None}]
    assert dossiers[0]["submitted_at"] == "2019-05-02T00:00:00+07:00" and dossiers[0]["closed_at"] is None
    with pytest.raises(LegacyImportError) as failed:
        parse_files("id,name\n1,2\n", None)
    assert str(failed.value.errors[0]) == 'accounts: line 1 [legacy_id]: Thiếu cột "legacy_id" trong dòng tiêu đề'
    with pytest.raises(LegacyImportError) as failed:
        parse_files("legacy_id,id_number,full_name,phone\nL1,079301009876,An,\n",
                    "legacy_id,code,procedure_code,procedure_name,agency_id,status,submitted_at,closed_at,summary\n"
                    "L1,HS1,1.001193,,,lost,2019-05-02T09:00:00,,\n")
    assert {(e.line, e.field) for e in failed.value.errors} == {(2, "status"), (2, "submitted_at")}
