"""Feedback repository, in the dossiers table (it shares the outbox and its stream):

* ``FEEDBACK#{id}`` / ``FEEDBACK``: the feedback (JSON body, version-checked writes);
* ``FEEDBACKS#{agency}`` / ``{received_at}#{id}``: the same body in the agency's list, sorted
  by receipt, so an agency's feedback of a period is one Query (the 766 group 5 reads it);
* ``DOSSIER#{code}`` / ``FEEDBACK``: how many feedbacks a dossier has had (766, 5.4 reads it);
* ``FEEDBACK#{id}`` / ``EVENT#…``: an outbox event when a feedback is about a dossier, so the
  report projection re-projects that dossier (source ``motcua.feedback``: the national sync
  and notifications rules, which match ``motcua.dossiers``, never see it).

Every change is one TransactWriteItems conditioned on the version read, and holds the change's
audit record (chalicelib.trust.store.audit.put_action): a change never exists without its record,
and a refused change leaves none.
"""
from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterator

from botocore.exceptions import ClientError

from chalicelib.kernel.errors import Conflict, ServiceUnavailable
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.runtime.tables import connection, dossier_pk
from chalicelib.feedback.rules.feedback import Feedback
from chalicelib.trust.store import audit as audit_store

MARKER_SK = "FEEDBACK"


def _table() -> str:
    return settings().name(resources.DOSSIERS.name)


def _body(feedback: Feedback) -> str:
    return json.dumps(feedback, ensure_ascii=False, separators=(",", ":"))


def _puts(feedback: Feedback, expected_version: int | None) -> list[dict[str, Any]]:
    main: dict[str, Any] = {"TableName": _table(), "Item": {
        "pk": {"S": f"FEEDBACK#{feedback['id']}"}, "sk": {"S": "FEEDBACK"},
        "version": {"N": str(feedback["version"])}, "body": {"S": _body(feedback)}}}
    if expected_version is None:
        main["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        main["ConditionExpression"] = "version = :v"
        main["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
    listed = {"TableName": _table(), "Item": {
        "pk": {"S": f"FEEDBACKS#{feedback['agency_id']}"}, "sk": {"S": f"{feedback['received_at']}#{feedback['id']}"},
        "body": {"S": _body(feedback)}}}
    return [{"Put": main}, {"Put": listed}]


def create(feedback: Feedback, event: dict[str, Any] | None, audit_record: dict[str, Any]) -> None:
    """Store a new feedback with its audit record; about a dossier, count it on the dossier and
    add the outbox event."""
    actions = [*_puts(feedback, None), audit_store.put_action(audit_record)]
    code = feedback.get("dossier_code")
    if code and event is not None:
        actions.append({"Update": {
            "TableName": _table(), "Key": {"pk": {"S": dossier_pk(code)}, "sk": {"S": MARKER_SK}},
            "UpdateExpression": "ADD feedbacks :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}})
        actions.append({"Put": {"TableName": _table(), "ConditionExpression": "attribute_not_exists(pk)", "Item": {
            "pk": {"S": f"FEEDBACK#{feedback['id']}"}, "sk": {"S": f"{resources.OUTBOX_PREFIX}{1:010d}"},
            "event_id": {"S": event["id"]}, "event_type": {"S": event["type"]}, "version": {"N": str(event["version"])},
            "event": {"S": json.dumps(event, ensure_ascii=False, separators=(",", ":"))}}}})
    _write(actions)


def save(feedback: Feedback, expected_version: int, audit_record: dict[str, Any]) -> None:
    """Write the changed feedback and its audit record; 409 if it changed since it was read."""
    _write([*_puts(feedback, expected_version), audit_store.put_action(audit_record)])


def _write(actions: list[dict[str, Any]]) -> None:
    """One TransactWriteItems: a lost race on the feedback (its item comes first) is a 409; any
    other refusal (the audit record's, a throttled or unreachable table) a retryable 503."""
    try:
        connection().client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise Conflict("Phản ánh vừa được người khác cập nhật. Vui lòng thử lại.", code="concurrent_update") from None
        raise ServiceUnavailable(extra={"retryable": True}) from error


def get(feedback_id: str) -> Feedback | None:
    item = connection().client.get_item(TableName=_table(), ConsistentRead=True, Key={
        "pk": {"S": f"FEEDBACK#{feedback_id}"}, "sk": {"S": "FEEDBACK"}}).get("Item")
    return json.loads(item["body"]["S"]) if item else None


def of_agency(agency_id: str, low: str, high: str) -> Iterator[Feedback]:
    """An agency's feedback received between two ISO prefixes (inclusive), oldest first."""
    client = connection().client
    request: dict[str, Any] = {
        "TableName": _table(), "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": f"FEEDBACKS#{agency_id}"}, ":low": {"S": low}, ":high": {"S": high}},
    }
    while True:
        page = client.query(**request)
        for item in page.get("Items", []):
            yield json.loads(item["body"]["S"])
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def complaints_about(code: str) -> int:
    """How many feedbacks were filed about a dossier (strongly consistent)."""
    item = connection().client.get_item(TableName=_table(), ConsistentRead=True, Key={
        "pk": {"S": dossier_pk(code)}, "sk": {"S": MARKER_SK}}).get("Item")
    return int(item["feedbacks"]["N"]) if item else 0


def complained(codes: list[str]) -> set[str]:
    """Which of these dossiers have had a feedback filed about them (batches of 100)."""
    client, table, found = connection().client, _table(), set()
    for start in range(0, len(codes), 100):
        keys = [{"pk": {"S": dossier_pk(code)}, "sk": {"S": MARKER_SK}} for code in codes[start:start + 100]]
        request: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            found |= {item["pk"]["S"].removeprefix("DOSSIER#") for item in answer.get("Responses", {}).get(table, [])}
            request = answer.get("UnprocessedKeys") or {}
    return found
