"""766 index repository: day-series counters per agency shard and procedure, and one
projection record per dossier (what it contributed, and the stamp it was computed from).

The same layout as the form-06 counters (chalicelib/reports/store/counters.py): counters at
three grains (year, month, day), so any prefix sum reads a bounded number of items whatever
the number of dossiers. A dossier's deltas and its new record are written in ONE transaction
conditioned on the record's stamp, so a duplicate or a stale delivery never adds twice.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, cast
from collections.abc import Iterable, Iterator

from chalicelib.runtime import resources
from chalicelib.runtime import tables as dossier_table
from chalicelib.runtime.settings import settings
from chalicelib.dossiers.rules.records import Dossier
from chalicelib.reports.rules.form06 import by_period
from chalicelib.reports.rules.index766 import COUNTER_FIELDS, Contributions
from chalicelib.reports.store.counters import period_queries, shard_of, shards

class StaleProjection(Exception):
    """Another delivery projected this stamp or a newer one first."""


def record_key(code: str) -> dict[str, Any]:
    return {"pk": {"S": f"IX#{code}"}, "sk": {"S": "P"}}


def counter_pk(agency_id: str, shard: int, period: str) -> str:
    """As chalicelib.reports.store.counters.counter_pk, under its own prefix."""
    grain, _, key = period.partition("#")
    bucket = {"D": key[:7], "M": key[:4], "Y": ""}[grain]
    return f"I#{agency_id}#{shard}#{grain}{bucket}"


def _table() -> str:
    return settings().name(resources.REPORTS.name)


def _encode(contributions: Contributions) -> str:
    return json.dumps({f"{day.isoformat()}|{name}": value for (day, name), value in contributions.items()},
                      separators=(",", ":"), sort_keys=True)


def _decode(text: str | None) -> Contributions:
    out: Contributions = {}
    for key, value in (json.loads(text) if text else {}).items():
        day, name = key.split("|")
        out[(date.fromisoformat(day), name)] = int(value)
    return out


@dataclass(frozen=True)
class Loaded:
    """What one projection step reads: the dossier, the two facts that change without a new
    dossier version, and the record last projected."""
    dossier: Dossier | None
    synced: bool
    complaint: bool
    stamp: str | None
    applied: Contributions
    counted: tuple[str, str] | None     # (agency, procedure) the applied contributions are counted under


# Items next to the dossier that other contexts write (their shapes are theirs): the national
# sync ledger (chalicelib/sync/store/sync_ledger.py: ``version`` = the last version the portal
# has) and the feedback count (chalicelib/feedback/store/feedback.py: ``feedbacks``). They are
# read here, by key, in one BatchGetItem next to the Query of the dossier's items.
LEDGER_SK, FEEDBACK_SK = "SYNC#national", "FEEDBACK"


def load(code: str) -> Loaded:
    """The whole dossier (one Query of its items), whether the portal has it, whether it has
    a complaint, and its projection record (stamp None: never projected); the last three in
    one BatchGetItem. All strongly consistent."""
    cfg = settings()
    dossiers, reports = cfg.name(resources.DOSSIERS.name), _table()
    pk = dossier_table.dossier_pk(code)
    dossier = cast(Dossier | None, dossier_table.get_dossier(code))
    answer = dossier_table.connection().client.batch_get_item(RequestItems={
        dossiers: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in (LEDGER_SK, FEEDBACK_SK)],
                   "ConsistentRead": True},
        reports: {"Keys": [record_key(code)], "ConsistentRead": True},
    })
    if answer.get("UnprocessedKeys"):
        raise RuntimeError("BatchGetItem left keys unprocessed; the message will be retried")
    found = {item["sk"]["S"]: item for item in answer["Responses"].get(dossiers, [])}
    records = answer["Responses"].get(reports, [])
    synced = int(found.get(LEDGER_SK, {}).get("version", {}).get("N", "0")) >= 1
    complaint = int(found.get(FEEDBACK_SK, {}).get("feedbacks", {}).get("N", "0")) > 0
    if not records:
        return Loaded(dossier, synced, complaint, None, {}, None)
    record = records[0]
    counted = (record["agency_id"]["S"], record["procedure_code"]["S"]) if "agency_id" in record else None
    return Loaded(dossier, synced, complaint, record["stamp"]["S"], _decode(record["contributions"]["S"]), counted)


def apply(code: str, agency_id: str, procedure_code: str, stamp: str, old_stamp: str | None,
          new: Contributions, changes: list[tuple[str, str, Contributions]]) -> None:
    """Write the counter changes ((agency, procedure, delta): two when a reassigned dossier
    leaves one agency for another) and the new record in one transaction, conditioned on the
    old stamp. The record names the agency and procedure its contributions are counted under."""
    record = {**record_key(code), "stamp": {"S": stamp}, "contributions": {"S": _encode(new)},
              "agency_id": {"S": agency_id}, "procedure_code": {"S": procedure_code}}
    put: dict[str, Any] = {"TableName": _table(), "Item": record}
    if old_stamp is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "stamp = :old"
        put["ExpressionAttributeValues"] = {":old": {"S": old_stamp}}
    actions: list[dict[str, Any]] = [{"Put": put}]
    updates: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for agency, procedure, delta in changes:
        for (period, name), value in by_period(delta).items():
            updates[(agency, procedure, period)][name] = value
    shard = shard_of(code)
    for (agency, procedure, period), fields in sorted(updates.items()):
        names = {"#a": "agency_id", "#p": "procedure_code", "#r": "period"}
        values: dict[str, Any] = {":a": {"S": agency}, ":p": {"S": procedure}, ":r": {"S": period}}
        adds = []
        for i, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{i}"] = name
            values[f":f{i}"] = {"N": str(value)}
            adds.append(f"#f{i} :f{i}")
        actions.append({"Update": {
            "TableName": _table(),
            "Key": {"pk": {"S": counter_pk(agency, shard, period)}, "sk": {"S": f"{period}#{procedure}"}},
            "UpdateExpression": "SET #a = :a, #p = :p, #r = :r ADD " + ", ".join(adds),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
        }})
    client = dossier_table.connection().client
    try:
        # at most 3 days (selection, end, the day after the due day) x 3 grains, twice for a
        # reassigned dossier, + the record
        client.transact_write_items(TransactItems=actions)
    except client.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise StaleProjection() from None
        raise


def read_counters(agency_ids: Iterable[str], start: date, end: date) -> tuple[list[dict[str, Any]], int]:
    """Counter rows (agency, procedure, period, values) for prefix sums up to the day before
    ``start`` and up to ``end``, and the number of items read: the cost depends on agencies,
    shards, procedures and days, never on dossiers."""
    rows: list[dict[str, Any]] = []
    items_read = 0
    for agency in agency_ids:
        for shard in range(shards()):
            for period, low, high in period_queries(start, end):
                for item in _items(counter_pk(agency, shard, period), low, high):
                    items_read += 1
                    rows.append({"agency_id": item["agency_id"]["S"], "procedure_code": item["procedure_code"]["S"],
                                 "period": item["period"]["S"],
                                 "values": {name: int(item[name]["N"]) for name in COUNTER_FIELDS if name in item}})
    return rows, items_read


def _items(pk: str, low: str, high: str) -> Iterator[dict[str, Any]]:
    client = dossier_table.connection().client
    request: dict[str, Any] = {
        "TableName": _table(), "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
    }
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
