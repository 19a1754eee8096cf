"""Typed records (issue 14): the dossier's keys are written down once, in
chalicelib/dossiers/rules/records.py, and everything else derives from them; the stores map a
record to its DynamoDB item and back in one place, losslessly."""
from __future__ import annotations

import ast
import copy
import json
from datetime import datetime
from pathlib import Path

from chalicelib.catalogue.rules.procedures import Fee, Procedure, Step
from chalicelib.dossiers.rules import processing
from chalicelib.dossiers.rules.corrections import request as request_correction
from chalicelib.dossiers.rules.records import API_KEYS, DOSSIER_KEYS, HISTORY_KEYS, REQUIRED_KEYS, Dossier
from chalicelib.dossiers.rules.submission import decide, full_view, new_dossier, record_uploader
from chalicelib.dossiers.store import dossiers as dossier_store
from chalicelib.kernel.working_days import TZ, WorkingCalendar, iso
from chalicelib.payments.rules.payments import new_payment, start_payment
from chalicelib.payments.rules.records import PAYMENT_KEYS
from chalicelib.payments.store import payments as payment_store
from chalicelib.runtime import tables
from chalicelib.trust.rules import audit
from chalicelib.trust.rules.privacy import mark_purged

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "chalicelib" / "dossiers" / "rules" / "records.py"
CAL = WorkingCalendar(2025, 2028)
AGENCY, OTHER = "000.22.30.H50", "000.00.15.H50"
FILE_A, FILE_B, FILE_C = "a" * 32, "b" * 32, "c" * 32


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=TZ)


def submitted() -> Dossier:
    procedure = Procedure("1.009994", "Cấp giấy phép xây dựng", "Xây dựng", "XD", AGENCY, 10, "partial",
                          (Fee("Lệ phí", 100_000),), (), "resume", True,
                          (Step("Thẩm định", "officer", "Phòng Kinh tế", 3),
                           Step("Lấy ý kiến", "officer", "Sở Xây dựng", 4, OTHER)))
    submission = {"applicant": {"full_name": "Lê Văn Bình", "id_number": "0" * 12, "phone": "0900000000"},
                  "summary": "Xin phép xây nhà", "form": {"dien_tich": 80},
                  "attachments": [{"upload_id": FILE_A, "name": "don.pdf"}], "notify": ["sms"]}
    return new_dossier(code=f"{AGENCY}-261102-0001", submission=submission, procedure=procedure,
                       owner_sub="citizen-1", channel="online", submitted_at=iso(at(2, 8)))


def full_dossier() -> Dossier:
    """A dossier that has been through everything, so it holds every declared key."""
    d = submitted()
    d.update(consent=True, received_by="officer-1")
    record_uploader(d, d["attachments"], "citizen-1")
    processing.start_clock(d, {}, at=at(3), by="officer-1", calendar=CAL)
    decide(d, action="accept", status="accepted", at=iso(at(3)), by="officer-1", due_at=d["due_at"])
    processing.apply_forward(d, {"to_step": 2, "assignee": "officer-2", "note": None}, at=at(4), by="officer-1",
                             calendar=CAL)
    processing.apply_request_supplement(d, {"reason": "Thiếu bản vẽ", "documents": ["Bản vẽ"]}, at=at(5),
                                        by="officer-2", calendar=CAL)
    processing.apply_supplement(d, {"attachments": [{"upload_id": FILE_B, "name": "ban-ve.pdf"}]}, at=at(6),
                                by="citizen-1", calendar=CAL)
    processing.apply_extend(d, {"reason": "Cần thẩm định thêm", "new_due_date": "2026-11-30"}, at=at(9),
                            by="officer-2", calendar=CAL)
    processing.apply_issue_result(d, {"decision": "approved", "documents": [{"upload_id": FILE_C, "name": "gp.pdf"}]},
                                  at=at(10), by="officer-2", calendar=CAL)
    processing.apply_return_result(d, {"method": "desk"}, at=at(11), by="officer-1", calendar=CAL)
    decide(d, action="return_result", status="returned", at=iso(at(11)), by="officer-1")
    processing.apply_rate(d, {"criteria": {str(n): 2 for n in range(1, 10)}, "overall": 5, "comment": None},
                          at=at(12), by="citizen-1", calendar=CAL)
    request_correction(d, {"id": "c1", "field": "finished_at", "original": d["finished_at"] or "",
                           "value": iso(at(10, 8)), "reason": "Lỗi phần mềm", "evidence_upload_id": FILE_A,
                           "state": "pending"}, by="officer-1", at=iso(at(12)))
    payment = new_payment(d, payment_id="p" * 32, provider="vnpay", amount=100_000, pay_url="https://pay.example/",
                          created_at=at(3), expires_at=at(3, 10))
    start_payment(d, payment)
    mark_purged(d, at=iso(at(12)), files=3)
    d["imported_from"] = "v1"                      # set only by `motcua legacy import-dossiers`
    return d


# --- the keys are written once --------------------------------------------------------------

def key_lists(tree: ast.AST) -> list[int]:
    """Lines of literal lists, tuples and sets of five or more strings that are all dossier keys."""
    keys = set(DOSSIER_KEYS)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) >= 5:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(values) == len(node.elts) and set(values) <= keys:
                found.append(node.lineno)
    return found


def test_the_key_scan_finds_a_hand_written_list_of_dossier_keys():
    source = 'VIEW = ("code", "status", "version", "channel", "procedure_code")\nOTHER = ("code", "name", "x", "y", "z")'
    assert key_lists(ast.parse(source)) == [1]


def test_no_module_but_the_records_writes_out_a_list_of_dossier_keys():
    offenders = {}
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        if path == RECORDS:
            continue
        lines = key_lists(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[str(path.relative_to(ROOT))] = lines
    assert offenders == {}


def test_a_new_dossier_holds_every_core_key_and_only_declared_keys():
    dossier = submitted()
    assert REQUIRED_KEYS <= set(dossier) <= set(DOSSIER_KEYS)


def test_a_dossier_that_went_through_everything_holds_only_declared_keys():
    # ``history`` is only in a dossier item read alone from an index: it counts the entries kept apart.
    assert set(full_dossier()) == set(DOSSIER_KEYS) - {"history"}


def test_a_new_payment_holds_exactly_the_declared_payment_keys():
    payment = new_payment(submitted(), payment_id="p" * 32, provider="vnpay", amount=100_000,
                          pay_url="https://pay.example/", created_at=at(3), expires_at=at(3, 10))
    assert tuple(payment) == PAYMENT_KEYS


# --- what is derived from the keys keeps its meaning -------------------------------------

def test_the_full_view_shows_the_api_keys_and_money_and_nothing_internal():
    view = full_view(full_dossier())
    assert set(view) == {"dossier_code", *API_KEYS, "amount_paid", "payment_status"} - {"code"}
    assert not {"owner_sub", "uploaders", "corrections", "payment", "agencies", "field_code"} & set(view)


def test_the_full_view_shows_later_keys_as_null_when_an_older_dossier_lacks_them():
    old = submitted()
    for key in ("steps", "step", "rating", "notify"):
        del old[key]
    view = full_view(old)
    assert (view["steps"], view["step"], view["rating"], view["notify"]) == (None, None, None, None)


def test_the_audit_copies_the_values_it_copied_before_the_keys_were_typed():
    copied, named = audit.VALUE_FIELDS, audit.NESTED_VALUE_FIELDS
    assert copied == {
        "status", "version", "channel", "agency_id", "procedure_code", "submitted_at", "accepted_at", "due_at",
        "amount_due", "finished_at", "returned_at", "return_method", "holder_agency_id", "extension_days",
        "consent", "received_by", "pay_before_accept", "receiving_agency_id", "result_delivery"}
    assert named == {"step", "payment"}


# --- one mapping to and from DynamoDB --------------------------------------------------------

def stored(items: dossier_store.Items) -> tables.StoredDossier:
    """What the table holds after writing ``items`` to an empty partition."""
    return tables.StoredDossier(items.dossier.body, {entry.sk: entry.body for entry in items.changed})


def test_a_full_dossier_survives_the_store_mapping_both_ways():
    dossier = full_dossier()
    items = dossier_store.to_items(copy.deepcopy(dossier))
    assert tables.assemble(stored(items)) == dossier
    again = dossier_store.to_items(tables.assemble(stored(items)))
    assert again.dossier.attribute_values == items.dossier.attribute_values
    assert [(e.sk, e.body) for e in again.changed] == [(e.sk, e.body) for e in items.changed]


def test_the_dossier_item_keeps_its_growing_histories_apart_and_only_counts_them():
    dossier = full_dossier()
    items = dossier_store.to_items(copy.deepcopy(dossier))
    body = json.loads(items.dossier.body)
    assert HISTORY_KEYS == ("decisions", "step_history", "extensions", "supplements", "corrections")
    assert not set(HISTORY_KEYS) & set(body)
    assert body["history"] == {key: len(dossier[key]) for key in HISTORY_KEYS}   # type: ignore[literal-required]
    assert all(len(dossier[key]) >= 1 for key in HISTORY_KEYS)   # type: ignore[literal-required]
    expected = [tables.history_sk(key, i) for key in HISTORY_KEYS for i in range(len(dossier[key]))]   # type: ignore[literal-required]
    assert sorted(e.sk for e in items.changed) == sorted(expected)
    assert all(e.pk == f"DOSSIER#{dossier['code']}" for e in items.changed)


def test_a_dossier_read_back_and_changed_writes_only_its_new_and_changed_entries():
    dossier = full_dossier()
    read = dossier_store._read(stored(dossier_store.to_items(copy.deepcopy(dossier))))
    decide(read, action="extend", status=read["status"], at=iso(at(20)), by="officer-2")
    read["supplements"][-1]["reason"] = "đổi lý do"
    changed = dossier_store.to_items(read).changed
    assert [e.sk for e in changed] == [tables.history_sk("decisions", len(dossier["decisions"])),
                                       tables.history_sk("supplements", len(dossier["supplements"]) - 1)]
    assert dossier_store.to_items(read).changed == []     # what was staged counts as stored


def test_a_dossier_stored_with_its_histories_inside_is_read_whole_and_moves_them_out_on_its_next_write():
    dossier = full_dossier()
    old_item = json.dumps(dossier, ensure_ascii=False)           # as written before histories were kept apart
    read = dossier_store._read(tables.StoredDossier(old_item, {}))
    assert read == dossier
    items = dossier_store.to_items(read)
    assert len(items.changed) == sum(len(dossier[key]) for key in HISTORY_KEYS)   # type: ignore[literal-required]
    assert not set(HISTORY_KEYS) & set(json.loads(items.dossier.body))


def test_a_read_that_spans_a_change_takes_the_entries_of_the_version_it_read():
    dossier = full_dossier()
    items = dossier_store.to_items(copy.deepcopy(dossier))
    later = {**stored(items).entries, tables.history_sk("decisions", len(dossier["decisions"])): '{"action":"x"}'}
    assert tables.assemble(tables.StoredDossier(items.dossier.body, later)) == dossier


def test_the_dossier_item_carries_the_keys_its_indexes_need():
    dossier = full_dossier()
    item = dossier_store.to_items(dossier).dossier
    assert (item.pk, item.sk, item.code, item.status, item.version) == (
        f"DOSSIER#{dossier['code']}", "DOSSIER", dossier["code"], "returned", dossier["version"])
    assert (item.gsi_owner_status, item.gsi_open, item.gsi_closed) == ("citizen-1#returned", None, None)


def test_a_payment_survives_the_store_mapping_both_ways():
    payment = new_payment(submitted(), payment_id="p" * 32, provider="vnpay", amount=100_000,
                          pay_url="https://pay.example/", created_at=at(3), expires_at=at(3, 10))
    item = payment_store.to_item(payment)
    assert payment_store.from_item(item) == payment
    assert payment_store.to_item(payment_store.from_item(item)).attribute_values == item.attribute_values
    assert (item.gsi_pending, item.gsi_day) == ("PENDING", "2026-11-03")


def test_a_procedure_and_an_agency_survive_the_catalogue_mapping_both_ways():
    from chalicelib.catalogue.rules.procedures import Agency
    from chalicelib.catalogue.store import procedures as catalogue_store

    procedure = Procedure("1.009994", "Cấp giấy phép xây dựng", "Xây dựng", "XD", AGENCY, 10, "partial",
                          (Fee("Lệ phí", 100_000),), ("Đơn",), "resume", True, (Step("Thẩm định", "officer", "Phòng", 3),))
    agency = Agency(AGENCY, "UBND xã", "commune", OTHER)
    for record in (procedure, agency):
        item = catalogue_store.to_item(record)
        assert catalogue_store.from_item(item) == record
        assert catalogue_store.to_item(catalogue_store.from_item(item)).attribute_values == item.attribute_values


def test_the_api_contract_documents_exactly_the_keys_the_full_view_shows():
    import yaml

    schema = yaml.safe_load((ROOT / "chalicelib" / "edge" / "openapi.yaml").read_text(encoding="utf-8"))
    dossier = schema["components"]["schemas"]["Dossier"]
    shown = {"code" if key == "dossier_code" else key for key in dossier["properties"]}
    assert shown == {*API_KEYS, "amount_paid", "payment_status", "national_sync"}
    assert {"code" if key == "dossier_code" else key for key in dossier["required"]} <= REQUIRED_KEYS
