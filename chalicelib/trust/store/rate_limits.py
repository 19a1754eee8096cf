"""Rate-limit counters in the idempotency table (items expire by TTL).

``hit`` is one conditional UpdateItem: ADD 1 only while the window's count is below the limit,
so concurrent requests can never count past it and nothing is lost between read and write.
"""
from __future__ import annotations

from typing import Any

from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.rate_limits import Limit
from chalicelib.runtime.models import DossierItem
from chalicelib.runtime.tables import CORE_SK, connection, dossier_pk
from chalicelib.dossiers.rules.records import Dossier, from_json


def table() -> str:
    return settings().name(resources.IDEMPOTENCY.name)


def hit(limit: Limit, subject: str, now: float) -> bool:
    """Count one request in the current window; False (nothing counted) when it is full."""
    client = connection().client
    try:
        client.update_item(
            TableName=table(), Key={resources.IDEMPOTENCY.pk: {"S": limit.key(subject, now)}},
            UpdateExpression="ADD hits :one SET #ttl = if_not_exists(#ttl, :expires)",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeNames={"#ttl": resources.IDEMPOTENCY.ttl_attribute},
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit.limit)},
                                       ":expires": {"N": str(limit.expires(now))}})
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def dossier_and_hits(code: str, limit: Limit, now: float) -> tuple[Dossier | None, int]:
    """The dossier item (its state: public tracking shows no history, so the entries kept
    apart are not read) and this window's count for the code, in one BatchGetItem over two
    tables."""
    dossiers = settings().name(resources.DOSSIERS.name)
    request: dict[str, Any] = {
        dossiers: {"Keys": [{"pk": {"S": dossier_pk(code)}, "sk": {"S": CORE_SK}}], "ConsistentRead": True},
        table(): {"Keys": [{resources.IDEMPOTENCY.pk: {"S": limit.key(code, now)}}], "ConsistentRead": True},
    }
    dossier, hits = None, 0
    while request:
        answer = connection().client.batch_get_item(RequestItems=request)
        for raw in answer.get("Responses", {}).get(dossiers, []):
            dossier = from_json(DossierItem.from_raw_data(raw).body)
        for raw in answer.get("Responses", {}).get(table(), []):
            hits = int(raw["hits"]["N"]) if "hits" in raw else 0
        request = answer.get("UnprocessedKeys") or {}
    return dossier, hits
