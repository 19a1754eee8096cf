"""Report repository: counter items and per-dossier projection records.

Counters are spread over ``MOTCUA_REPORT_SHARDS`` (``shards()``) partitions per agency (the shard is a hash
of the dossier code), so one busy agency cannot exceed a partition's write limit. A
dossier's counter deltas and its projection record are written in ONE transaction,
conditioned on the record's version, so a retried or duplicated delivery can never add
twice. The shard count is fixed for the life of a deployment.
"""
from __future__ import annotations

import json
import zlib
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, cast
from collections.abc import Iterable, Iterator

from boto3.dynamodb.types import TypeDeserializer
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.runtime import tables as dossier_table
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.runtime.models import ProjectionItem, table_meta
from chalicelib.reports.rules.form06 import COUNTER_FIELDS, STORED_VIEWS, Contributions, by_period, viewed
from chalicelib.dossiers.rules.records import Dossier

# Built at run time (a number attribute per report cell, from the report's rules), so its
# attributes are unknown to mypy. Here, not in chalicelib.runtime.models: the platform knows no
# context's rules.
CounterItem: Any = type("CounterItem", (Model,), {
    "__doc__": "Report counters of one agency shard, period (Y#/M#/D#) and procedure.",
    "Meta": table_meta(resources.REPORTS),
    "pk": UnicodeAttribute(hash_key=True),
    "sk": UnicodeAttribute(range_key=True),
    "agency_id": UnicodeAttribute(),
    "procedure_code": UnicodeAttribute(),
    "field": UnicodeAttribute(),
    "period": UnicodeAttribute(),
    **{f"{view}_{name}": NumberAttribute(null=True) for view in STORED_VIEWS for name in COUNTER_FIELDS},
})

# Every write to a counter item adds to all of its raw columns (0 to those the dossier does
# not touch), so an item holds the same columns at 2,000 dossiers as at 50,000 and a report
# reads the same bytes whatever the volume. ADD of 0 creates a missing column as 0 and
# changes nothing else; the expression is the same for every write.
RAW_SHAPE: dict[str, int] = {f"raw_{name}": 0 for name in COUNTER_FIELDS}


def shards() -> int:
    return settings().reports.shards


def shard_of(code: str) -> int:
    return zlib.crc32(code.encode()) % shards()


def counter_pk(agency_id: str, shard: int, period: str) -> str:
    """Partition of a counter item: day items by month, month items by year, year items
    together, so every partition stays small (≤ 31 periods × procedures) however long
    the history, and a prefix sum touches at most five partitions per agency shard."""
    grain, _, key = period.partition("#")
    bucket = {"D": key[:7], "M": key[:4], "Y": ""}[grain]
    return f"C#{agency_id}#{shard}#{grain}{bucket}"


def projection_pk(code: str) -> str:
    return f"P#{code}"


def _encode(contributions: dict[str, Contributions]) -> str:
    return json.dumps({view: {f"{day.isoformat()}|{name}": value for (day, name), value in c.items()}
                       for view, c in contributions.items()}, separators=(",", ":"))


def _decode(text: str | None) -> dict[str, Contributions]:
    raw = json.loads(text) if text else {}
    out: dict[str, Contributions] = {}
    for view in STORED_VIEWS:
        out[view] = {}
        for key, value in raw.get(view, {}).items():
            day, name = key.split("|")
            out[view][(date.fromisoformat(day), name)] = int(value)
    return out


def load(code: str) -> tuple[Dossier | None, int | None, dict[str, Contributions], str | None]:
    """The whole dossier (one Query of its items) and its projection record (one GetItem),
    both strongly consistent, and the agency the record's contributions are counted under
    (None: nothing projected yet)."""
    dossier = cast(Dossier | None, dossier_table.get_dossier(code))
    client = dossier_table.connection().client
    answer = client.get_item(TableName=settings().name(resources.REPORTS.name), ConsistentRead=True,
                             Key={"pk": {"S": projection_pk(code)}, "sk": {"S": "P"}})
    deserialize = TypeDeserializer().deserialize
    record_items = [answer["Item"]] if "Item" in answer else []
    if not record_items:
        return dossier, None, {view: {} for view in STORED_VIEWS}, None
    record = {k: deserialize(v) for k, v in record_items[0].items()}
    # Records written before merger day name no agency: until then a dossier's agency never
    # changed, so it is the first it had (``agencies`` keeps every agency in order).
    first = (dossier.get("agencies") or [dossier["agency_id"]])[0] if dossier else None
    counted = record.get("agency_id") or first
    return dossier, int(record["version"]), _decode(record.get("contributions")), counted


class StaleProjection(Exception):
    """Another delivery projected this version or a newer one first."""


def apply(dossier: Dossier, version: int, applied_version: int | None,
          new: dict[str, Contributions], deltas: dict[str, Contributions], *,
          withdrawn: tuple[str, dict[str, Contributions]] | None = None) -> None:
    """Write the counter deltas and the new projection record in one transaction.
    ``withdrawn``: (agency, deltas) taken off the agency a reassigned dossier left (merger day)."""
    code, agency = dossier["code"], dossier["agency_id"]
    record = ProjectionItem(pk=projection_pk(code), sk="P", version=version, contributions=_encode(new),
                            agency_id=agency)
    condition = (ProjectionItem.pk.does_not_exist() if applied_version is None
                 else ProjectionItem.version == applied_version)
    updates: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict(RAW_SHAPE))
    for counted, changes in ((agency, deltas), *([withdrawn] if withdrawn else [])):
        for view, delta in changes.items():
            for (period, name), value in by_period(delta).items():
                updates[(counted, period)][f"{view}_{name}"] = value
    try:
        with TransactWrite(connection=dossier_table.connection()) as tx:
            tx.save(record, condition=condition)
            for (counted, period), fields in updates.items():
                item = CounterItem(pk=counter_pk(counted, shard_of(code), period),
                                   sk=f"{period}#{dossier['procedure_code']}")
                actions = [CounterItem.agency_id.set(counted), CounterItem.procedure_code.set(dossier["procedure_code"]),
                           CounterItem.field.set(dossier.get("field", "")), CounterItem.period.set(period)]
                actions += [getattr(CounterItem, name).add(value) for name, value in fields.items()]
                tx.update(item, actions=actions)
    except TransactWriteError as exc:
        reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise StaleProjection() from None
        raise


def _queries(start: date, end: date) -> list[tuple[str, str, str]]:
    """(partition period, low sk, high sk) covering both prefix sums a report needs: up to
    the day before ``start`` and up to ``end``."""
    before = start - timedelta(days=1)
    queries = [("Y#", "Y#0000", f"Y#{end.year - 1:04d}~")]
    for year in sorted({before.year, end.year}):
        last = (end if year == end.year else before).month - 1
        if last >= 1:
            queries.append((f"M#{year:04d}", f"M#{year:04d}-01", f"M#{year:04d}-{last:02d}~"))
    days = [end] if (before.year, before.month) == (end.year, end.month) else [before, end]
    queries += [(f"D#{day:%Y-%m}", f"D#{day:%Y-%m}-01", f"D#{day:%Y-%m-%d}~") for day in days]
    return queries


period_queries = _queries   # the same prefix-sum plan for the 766 index counters (index_counters.py)


def read_counters(agency_ids: Iterable[str], start: date, end: date) -> tuple[list[dict[str, Any]], int]:
    """Counter rows (agency, procedure, field, period, fields) needed for a report over
    [start, end], and the number of items read. Cost depends on agencies, shards and days,
    never on the number of dossiers."""
    rows: list[dict[str, Any]] = []
    items_read = 0
    for agency in agency_ids:
        for shard in range(shards()):
            for period, low, high in _queries(start, end):
                for item in _counter_items(counter_pk(agency, shard, period), low, high):
                    items_read += 1
                    rows.append({
                        "agency_id": item["agency_id"]["S"], "procedure_code": item["procedure_code"]["S"],
                        "field": item["field"]["S"], "period": item["period"]["S"],
                        "values": viewed({view: {name[len(view) + 1:]: int(value["N"]) for name, value in item.items()
                                                 if name.startswith(f"{view}_") and "N" in value}
                                          for view in STORED_VIEWS}),
                    })
    return rows, items_read


def _counter_items(pk: str, low: str, high: str) -> Iterator[dict[str, Any]]:
    """One partition's counter items in DynamoDB's wire form, every page.

    Read through the model's table connection but not turned into model instances: a
    counter item holds up to 26 numbers, and building pynamodb attributes for each cost
    more than the rest of the report (the bench's 50,000 : 2,000 row read the same items
    yet took up to 1.7x longer, the larger items holding twice the numbers)."""
    connection = CounterItem._get_connection()
    start_key = None
    while True:
        page = connection.query(pk, range_key_condition=CounterItem.sk.between(low, high),
                                exclusive_start_key=start_key)
        yield from page.get("Items", [])
        start_key = page.get("LastEvaluatedKey")
        if not start_key:
            return
