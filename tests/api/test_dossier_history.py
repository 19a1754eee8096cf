"""A dossier's growing histories are items of their own (issue 18, docs/decisions.md): the
dossier item counts them, every read puts them back, every write adds only what is new."""
from __future__ import annotations

import json

from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime import tables
from chalicelib.runtime.models import DossierItem, HistoryEntryItem
from tests.api.test_workflow import act, new_accepted, officer


def stored_entries(code: str) -> list[str]:
    return [item.sk for item in HistoryEntryItem.query(store.dossier_pk(code), HistoryEntryItem.sk.startswith("DOSSIER#"))]


def rewrite_as_before(code: str, decisions: int) -> dict:
    """Store the dossier as MotCua did before histories were kept apart: every list inside the
    dossier item, no entries, no counts; its decision log ``decisions`` entries long."""
    dossier = dict(store.get_dossier(code))
    log = dossier["decisions"]
    dossier["decisions"] = [*log, *({**log[-1], "reason": f"ghi chú {i}"} for i in range(decisions - len(log)))]
    item = store.to_items(dossier).dossier
    item.body = json.dumps(dossier, ensure_ascii=False)
    for sk in stored_entries(code):
        HistoryEntryItem(pk=store.dossier_pk(code), sk=sk).delete()
    item.save()
    return dossier


def test_each_transition_writes_one_decision_entry_and_the_item_counts_it(api, aws_env):
    code, _, _ = new_accepted(api)
    before = stored_entries(code)
    assert act(api, code, officer(api), "forward", to_step=1, assignee="officer-a").status_code == 200
    added = sorted(set(stored_entries(code)) - set(before))
    assert added == [tables.history_sk("decisions", 1), tables.history_sk("step_history", 0)]
    counts = json.loads(DossierItem.get(store.dossier_pk(code), "DOSSIER").body)["history"]
    assert counts["decisions"] == 2 and counts["step_history"] == 1


def test_a_list_page_shows_state_without_reading_any_history(api, aws_env):
    code, _, _ = new_accepted(api)
    page = api.call("GET", "/dossiers?limit=5", token=officer(api)).json["items"]
    assert [item["dossier_code"] for item in page] == [code]
    assert "decisions" not in page[0]


def test_a_dossier_stored_before_histories_were_kept_apart_reads_whole_and_moves_them_out_on_its_next_change(api, aws_env):
    code, citizen, _ = new_accepted(api)
    old = rewrite_as_before(code, decisions=150)     # more than one transaction holds
    read = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert read["decisions"] == old["decisions"]
    assert act(api, code, officer(api), "forward", to_step=1, assignee="officer-b").status_code == 200
    body = json.loads(DossierItem.get(store.dossier_pk(code), "DOSSIER").body)
    assert "decisions" not in body and body["history"]["decisions"] == 151
    assert len([sk for sk in stored_entries(code) if "#decisions#" in sk]) == 151
    again = api.call("GET", f"/dossiers/{code}", token=citizen).json
    assert again["decisions"][:150] == old["decisions"] and again["decisions"][-1]["assignee"] == "officer-b"


def test_reports_and_backfills_read_whole_dossiers_from_their_index(api, aws_env):
    code, _, _ = new_accepted(api)
    assert act(api, code, officer(api), "forward", to_step=1, assignee="officer-c").status_code == 200
    agency = store.get_dossier(code)["agency_id"]
    found = [d for d in store.dossiers_since(agency, "2000-01-01") if d["code"] == code]
    assert [(len(d["decisions"]), len(d["step_history"])) for d in found] == [(2, 1)]
    assert found[0]["step"]["assignee"] == "officer-c"
