"""Shared by the crash-point, throttling and duplicate suites: seeds and the table audit that
proves nothing was half-written."""
from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from typing import Any

from chalicelib.dossiers.store import dossiers as store
from chalicelib.runtime.settings import settings


def seed(name: str) -> int:
    """``MOTCUA_FAULT_SEED`` if set, else a fresh one; printed so a failure can be replayed
    (pytest shows captured output of failing tests)."""
    value = int(os.environ.get("MOTCUA_FAULT_SEED") or random.randrange(1_000_000))
    print(f"{name}: MOTCUA_FAULT_SEED={value}")
    return value


def scale(name: str, default: int) -> int:
    """A suite's size: small in ``make test``, larger under ``make soak`` (its env var)."""
    return int(os.environ.get(name, default))


def dossiers_table(session: Any) -> list[dict[str, Any]]:
    """Every item of the dossiers table (a test-only Scan)."""
    client = session.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": settings().name("dossiers"), "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def audit(session: Any) -> dict[str, Any]:
    """Check the dossiers table is whole, and return what it holds. Whole means: every
    dossier has exactly one outbox event per version 1..version and none beyond; every
    idempotency record's remembered response names a dossier that exists; every day's
    sequence counter is at least the highest number issued that day (a number taken by a
    submission that then failed is a gap, never a duplicate: docs/decisions.md); every
    history list has exactly the entries its dossier item counts (none lost, none extra)."""
    dossiers: dict[str, dict[str, Any]] = {}
    events: dict[str, list[int]] = defaultdict(list)
    idempotency: list[dict[str, Any]] = []
    sequences: dict[str, int] = {}
    entries: dict[str, list[str]] = defaultdict(list)
    for item in dossiers_table(session):
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if sk == "DOSSIER":
            body = json.loads(item["body"]["S"])
            dossiers[body["code"]] = body
        elif sk.startswith("DOSSIER#") and pk.startswith("DOSSIER#"):
            entries[pk].append(sk.split("#")[1])
        elif sk.startswith("EVENT#"):
            events[pk].append(json.loads(item["event"]["S"])["version"])
        elif sk == "IDEMPOTENCY":
            idempotency.append(json.loads(item["response"]["S"]))
        elif sk == "SEQ":
            sequences[pk] = int(item["value"]["N"])
    problems = []
    for code, dossier in dossiers.items():
        versions = sorted(events.pop(store.dossier_pk(code), []))
        if versions != list(range(1, dossier["version"] + 1)):
            problems.append(f"{code}: version {dossier['version']} but events {versions}")
        kept = entries.pop(store.dossier_pk(code), [])
        counted = dossier.get("history", {})
        if any(kept.count(name) != count for name, count in counted.items()) or set(kept) - set(counted):
            problems.append(f"{code}: history counts {counted} but entries {sorted(kept)}")
    problems += [f"events without a dossier: {pk}" for pk in events]
    problems += [f"history entries without a dossier: {pk}" for pk in entries]
    problems += [f"idempotency record for missing dossier {r.get('dossier_code')}"
                 for r in idempotency if r.get("dossier_code") not in dossiers]
    highest: dict[str, int] = defaultdict(int)
    for d in dossiers.values():
        _, day, number = d["code"].rsplit("-", 2)
        key = store.sequence_key(d["agency_id"], day)
        highest[key] = max(highest[key], int(number))
    problems += [f"sequence {pk} is {sequences.get(pk, 0)}, but number {number} was issued"
                 for pk, number in highest.items() if sequences.get(pk, 0) < number]
    assert problems == [], problems
    return {"dossiers": dossiers, "idempotency": idempotency}
