"""AWS calls per operation are deterministic, so their budgets are asserted here too."""
from __future__ import annotations

from motcua import metering
from tests.api.conftest import put_upload
from tests.api.test_intake import officer_for, seed_procedure, submission, submit


def dynamodb(calls: metering.Calls) -> int:
    return calls.service("dynamodb")


def test_submit_costs_two_dynamodb_calls_and_one_ranged_get_per_attachment(api, aws_env):
    procedure = seed_procedure(api)  # warms the catalogue cache, as a warm Lambda would have it
    citizen = api.token("citizen", sub="citizen-count")
    uploads = [put_upload(aws_env, "citizen-count") for _ in range(2)]
    body = submission(procedure["procedure_code"],
                      attachments=[{"upload_id": u, "name": f"{i}.pdf"} for i, u in enumerate(uploads)])
    with metering.aws_calls() as calls:
        assert submit(api, body, citizen).status_code == 201
    assert dynamodb(calls) <= 2, calls
    assert calls["dynamodb.TransactWriteItems"] == 1
    assert calls["s3.GetObject"] == 2 and calls.service("s3") == 2


def test_a_cold_process_submits_after_reading_one_procedure_never_scanning_the_catalogue(api):
    from chalicelib.catalogue.store import procedures as catalogue_store

    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-cold")
    catalogue_store.invalidate()   # a fresh Lambda: nothing of the catalogue cached
    with metering.aws_calls() as calls:
        assert submit(api, submission(procedure["procedure_code"]), citizen).status_code == 201
    assert calls["dynamodb.Scan"] == 0, calls
    # the procedure and its agency (merger day: a retired agency takes no dossier); the day's
    # number is one atomic ADD (UpdateItem)
    assert calls["dynamodb.GetItem"] == 2, calls
    assert calls["dynamodb.UpdateItem"] == 1, calls


def test_replayed_submit_makes_no_second_write(api):
    procedure = seed_procedure(api)
    citizen = api.token("citizen", sub="citizen-count")
    body = submission(procedure["procedure_code"])
    submit(api, body, citizen, key="count-replay-1")
    with metering.aws_calls() as calls:
        assert submit(api, body, citizen, key="count-replay-1").status_code == 201
    assert calls["dynamodb.TransactWriteItems"] == 1  # the attempt that finds the key taken
    assert dynamodb(calls) <= 3


def test_accept_costs_at_most_two_dynamodb_calls(api):
    procedure = seed_procedure(api)
    code = submit(api, submission(procedure["procedure_code"]), api.token("citizen")).json["dossier_code"]
    officer = officer_for(api, procedure)
    with metering.aws_calls() as calls:
        assert api.call("POST", f"/dossiers/{code}/accept", token=officer).status_code == 200
    assert dynamodb(calls) <= 2, calls


def test_read_by_code_is_one_query_of_the_dossiers_items_and_one_get_of_its_sync_ledger(api):
    procedure = seed_procedure(api)
    citizen = api.token("citizen")
    code = submit(api, submission(procedure["procedure_code"]), citizen).json["dossier_code"]
    with metering.aws_calls() as calls:
        assert api.call("GET", f"/dossiers/{code}", token=citizen).status_code == 200
    assert dict(calls) == {"dynamodb.Query": 1, "dynamodb.GetItem": 1}


def test_list_page_is_one_query_and_never_a_scan(api):
    procedure = seed_procedure(api)
    citizen = api.token("citizen")
    for i in range(3):
        submit(api, submission(procedure["procedure_code"]), citizen, key=f"count-list-{i:04d}")
    officer = officer_for(api, procedure)
    for path, token in (("/dossiers?limit=2", officer), ("/dossiers?status=submitted", officer),
                        ("/dossiers", citizen)):
        with metering.aws_calls() as calls:
            assert api.call("GET", path, token=token).status_code == 200
        assert dict(calls) == {"dynamodb.Query": 1}, (path, calls)
