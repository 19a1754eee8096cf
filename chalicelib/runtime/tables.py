"""The dossiers table's shared basics: its dossier key, the pynamodb connection for
transactions (chalicelib.runtime.aws.dynamodb_connection), and reading whole dossiers.

A dossier is stored as an item collection in its partition (``DOSSIER#{code}``): the
dossier item (sort key ``DOSSIER``) holds its state, and each entry of a growing history
list (the decision log, the held steps, the supplement rounds, the extensions, the
corrections: chalicelib.dossiers.rules.records marks them) is an item of its own, sort key
``DOSSIER#{list}#{index:05d}``. The dossier item keeps only how many entries each list has
(``history``), so it never grows with the dossier's history: a long-lived dossier cannot
pass DynamoDB's 400 KB item limit by being worked on (issue 18). One strongly consistent
Query on ``begins_with(sk, "DOSSIER")`` reads the whole collection; the outbox events and
the sync ledger of the partition sort elsewhere and are not read.

Split from chalicelib.dossiers.store.dossiers, which holds the write path (audit records, the
privacy index, due dates). Consumers that only read a dossier or share the connection (the
report projection, national sync, notifications, refund watch) import this module, so their
cold start does not load what only the API's writes need.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, NamedTuple

from chalicelib.runtime import resources
from chalicelib.runtime.aws import dynamodb_connection as connection   # one per warm Lambda
from chalicelib.runtime.settings import settings

CORE_SK = "DOSSIER"
HISTORY_COUNTS = "history"      # the dossier item's key: {list: how many entries are kept apart}
_ENTRY_PREFIX = f"{CORE_SK}#"
# Whole dossiers read at once when a report or a backfill walks an index: each is one Query,
# so a few run side by side (botocore clients are thread-safe).
_PARALLEL_READS = 8


def dossier_pk(code: str) -> str:
    return f"DOSSIER#{code}"


def history_sk(list_name: str, index: int) -> str:
    """The sort key of entry ``index`` (0-based) of a history list: entries sort by list, then
    in the order they were added."""
    return f"{_ENTRY_PREFIX}{list_name}#{index:05d}"


class StoredDossier(NamedTuple):
    """A dossier's items as stored: the dossier item's body and each history entry's body by
    sort key (what a write compares against, so it puts only what changed)."""
    core: str
    entries: dict[str, str]


def read_items(code: str) -> StoredDossier | None:
    """The dossier's collection: one strongly consistent Query (more pages only past 1 MB)."""
    client, table = connection().client, settings().name(resources.DOSSIERS.name)
    request: dict[str, Any] = {
        "TableName": table, "ConsistentRead": True,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :dossier)",
        "ExpressionAttributeValues": {":pk": {"S": dossier_pk(code)}, ":dossier": {"S": CORE_SK}},
        "ProjectionExpression": "sk, body",
    }
    core, entries = None, {}
    while True:
        answer = client.query(**request)
        for raw in answer.get("Items", []):
            sk, body = raw["sk"]["S"], raw["body"]["S"]
            if sk == CORE_SK:
                core = body
            else:
                entries[sk] = body
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return StoredDossier(core, entries) if core is not None else None


def assemble(stored: StoredDossier) -> dict[str, Any]:
    """The whole dossier from its items: each history list back in its key, in order.

    The dossier item says how many entries each list has, and entries are only ever appended,
    so a read that spans pages while a change lands takes the first ``count`` of them: the
    entries of the version it read. A dossier item written before histories were kept apart
    still holds its lists itself and has no ``history`` key."""
    dossier: dict[str, Any] = json.loads(stored.core)
    counts: Mapping[str, int] = dossier.pop(HISTORY_COUNTS, {})
    lists: dict[str, list[Any]] = {name: [] for name in counts}
    for sk in sorted(stored.entries):
        name = sk[len(_ENTRY_PREFIX):].rsplit("#", 1)[0]
        if name in lists:
            lists[name].append(json.loads(stored.entries[sk]))
    dossier.update({name: entries[:counts[name]] for name, entries in lists.items()})
    return dossier


def get_dossier(code: str) -> dict[str, Any] | None:
    """The whole dossier, strongly consistent: one Query of its collection."""
    stored = read_items(code)
    return assemble(stored) if stored else None


def read_many(codes: Iterable[str]) -> Iterator[StoredDossier | None]:
    """The collections of many dossiers, in the order given, a few Queries at a time (reports,
    backfills and purges walk an index whose items hold only the dossier item)."""
    pending = iter(codes)
    chunk = list(islice(pending, _PARALLEL_READS * 4))
    if not chunk:
        return   # nothing to read: no thread pool (a purge with nothing due starts cold)
    from concurrent.futures import ThreadPoolExecutor  # lazy: the API's cold start never walks an index

    connection()   # made once, before the threads share it
    with ThreadPoolExecutor(max_workers=_PARALLEL_READS) as pool:
        while chunk:
            yield from pool.map(read_items, chunk)
            chunk = list(islice(pending, _PARALLEL_READS * 4))
