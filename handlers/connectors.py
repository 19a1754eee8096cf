"""Outbound connectors: forward chosen dossier events to connected ministry systems.

One EventBridge rule and queue per system (chalicelib/runtime/resources.py, from the connector
configuration) feed this handler; the queue a batch came from names the system. Each event
is POSTed as JSON to the system's endpoint with ``X-MotCua-Signature: sha256=<HMAC-SHA256 of
the body>`` and ``X-MotCua-Event-Id``; anything but a 2xx fails the record, which is retried
with backoff and then goes to the system's DLQ. Receivers deduplicate on the event id.
"""
from __future__ import annotations

import json
from functools import partial
from typing import Any

import requests

from chalicelib.sync.rules import connectors
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from handlers.consumer import Consumer


class DeliveryFailed(Exception):
    pass


def deliver(system: connectors.System, event: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", connectors.SIGNATURE_HEADER:
               connectors.sign(system.secret(), body), "X-MotCua-Event-Id": event["id"], "X-MotCua-System": system.system}
    try:
        response = requests.post(system.url(), data=body, headers=headers,
                                 timeout=settings().connectors.timeout_seconds)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{system.system}: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{system.system}: HTTP {response.status_code}")
    return {"delivered": system.system, "status": response.status_code}


def _consumers() -> dict[str, Consumer]:
    """One consumer (and idempotency key space) per system, keyed by its queue's name."""
    found = {}
    for system in connectors.systems().values():
        name = f"connector-{system.system}"
        found[name] = Consumer(name, partial(deliver, system), queue=resources.queue_named(name))
    return found


CONSUMERS = _consumers()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    if not records:
        return {"batchItemFailures": []}
    queue = records[0]["eventSourceARN"].rsplit(":", 1)[1]
    system_queue = next((name for name in CONSUMERS if queue.endswith(name)), None)
    if system_queue is None:
        raise RuntimeError(f"no connector for queue {queue}")
    return CONSUMERS[system_queue].handler(event, context)
