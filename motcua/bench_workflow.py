"""Budgets of agency processing (issue 4), run by `make bench`:

* every workflow transition costs at most 2 DynamoDB calls (read + one transaction);
* the national sync handler makes at most 1 adapter call per event, plus 1 auth call per
  token lifetime (the simulator counts what it received over HTTP).
"""
from __future__ import annotations

import json
import os
from typing import Any

from chalicelib.runtime.settings import settings
from motcua.bench_kit import Row, local_app

HOUSE, COMMUNE = "1.009994", "000.22.30.H50"
DOSSIERS_FOR_SYNC = 5


def workflow_budgets() -> list[Row]:
    from motcua.simulators import start_all
    simulators = start_all(port=0)
    saved = {name: os.environ.get(name) for name in simulators.environment()}
    os.environ.update(simulators.environment())
    settings.cache_clear()   # settings are read once per process: read the simulators' ports
    simulators.reset_clients()
    try:
        with local_app() as (client, session):
            return _measure(client, session, simulators)
    finally:
        simulators.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        settings.cache_clear()
        simulators.reset_clients()


def _measure(client: Any, session: Any, simulators: Any) -> list[Row]:
    from chalicelib.dossiers.store import dossiers as store
    from chalicelib.dossiers.store.attachments import bucket, object_key
    from chalicelib.kernel.working_days import default_calendar, parse_iso, to_local
    from chalicelib.runtime.settings import settings
    from chalicelib.trust.rules.identity import mint_local_token
    from motcua import metering

    secret = settings().local_jwt_secret
    citizen = mint_local_token(secret, "bench-citizen", "citizen")
    officer = mint_local_token(secret, "bench-officer", "officer", COMMUNE)

    def call(method: str, path: str, token: str, body: Any = None, key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        response = client.http.request(method, path, headers=headers, body=json.dumps(body) if body is not None else None)
        assert response.status_code in (200, 201), response.body
        return json.loads(response.body)

    def upload(owner: str, n: int) -> dict[str, str]:
        upload_id = f"{n:032x}"
        session.client("s3").put_object(Bucket=bucket(), Key=object_key(owner, upload_id), Body=b"%PDF-1.4",
                                        ContentType="application/pdf")
        return {"upload_id": upload_id, "name": f"{n}.pdf"}

    applicant = {"full_name": "Lê Bench", "id_number": "001099000001", "phone": "0900000001"}
    codes = [call("POST", "/dossiers", citizen, {"procedure_code": HOUSE, "applicant": applicant}, f"bench-wf-{i:04d}")
             ["dossier_code"] for i in range(DOSSIERS_FOR_SYNC)]
    code = codes[0]
    call("POST", f"/dossiers/{code}/accept", officer)
    steps = [
        ("forward", officer, f"/dossiers/{code}/forward", {"to_step": 3}),
        ("request_supplement", officer, f"/dossiers/{code}/actions",
         {"action": "request_supplement", "reason": "Thiếu", "documents": ["Bản vẽ"]}),
        ("supplement", citizen, f"/dossiers/{code}/supplements", {"attachments": [upload("bench-citizen", 1)]}),
        ("extend", officer, f"/dossiers/{code}/actions", None),
        ("issue_result", officer, f"/dossiers/{code}/actions",
         {"action": "issue_result", "decision": "approved", "documents": [upload("bench-officer", 2)]}),
        ("return_result", officer, f"/dossiers/{code}/actions", {"action": "return_result", "method": "desk"}),
        ("rate", citizen, f"/dossiers/{code}/rating", {"criteria": {str(n): 2 for n in range(1, 10)}, "overall": 5}),
    ]
    worst = 0
    for name, token, path, body in steps:
        if name == "extend":
            due = to_local(parse_iso(store.get_dossier(code)["due_at"])).date()
            new_due = default_calendar().add_working_days(due, 1).isoformat()
            body = {"action": "extend", "reason": "Gia hạn", "new_due_date": new_due}
        with metering.aws_calls() as calls:
            call("POST", path, token, body)
        worst = max(worst, calls.service("dynamodb"))
    for other in codes[1:]:
        call("POST", f"/dossiers/{other}/accept", officer)
    return [Row("workflow transition: DynamoDB calls (worst of 7 actions)", worst, 2), *_sync(codes, simulators)]


def _sync(codes: list[str], simulators: Any) -> list[Row]:
    """Every event of the dossiers through the sync handler, as SQS would deliver them."""
    from chalicelib.dossiers.store import dossiers as store
    from handlers import national_sync
    from motcua.dispatcher import LambdaContext

    events = [event for code in codes for event in store.dossier_events(code)]
    records = [{"messageId": f"m{i}", "receiptHandle": f"m{i}", "attributes": {"ApproximateReceiveCount": "1"},
                "body": json.dumps({"detail": event}), "messageAttributes": {}, "md5OfBody": "",
                "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:local:000000000000:bench",
                "awsRegion": "local"} for i, event in enumerate(events)]
    for start in range(0, len(records), 10):
        result = national_sync.handler({"Records": records[start:start + 10]}, LambdaContext("national-sync"))
        assert not result["batchItemFailures"], result
    state = simulators.national.state()
    sent = len(state["calls"])
    # The portal's clients send the dossier record, then its progress records in a call of
    # their own (CapNhatTienDoHoSoMC, ten a call; docs/national-portal.md): two at most.
    return [Row(f"sync handler: portal calls per event ({len(events)} events)", sent / len(events), 2),
            Row("sync handler: auth calls per token lifetime", state["auth_calls"], 1)]
