"""Notifications to the citizen: SMS (SNS), Zalo (ZNS over HTTP) and email (SES).

EventBridge rule "notifications" -> SQS (retries with backoff, then DLQ) -> this consumer.
Per event: read the dossier (its ``notify`` preferences and addresses), render the event
type's Vietnamese template, and for each chosen channel claim a delivery record, send, and
mark it sent. A channel that fails releases its claim and fails the record, so the retry
sends only what is still missing: at most once per event per channel. A channel that can never
deliver (Zalo: the phone has no Zalo account, the template data is refused) is marked so and
not retried; the citizen is told by SMS instead when they gave a phone (``fallback_channel``).
When ZNS refused it for our own OA, app, balance or daily limit (docs/notifications.md), every
Zalo message goes by SMS until an operator acts: ``ZaloAccountErrors`` counts them and alarms.
"""
from __future__ import annotations

from datetime import datetime, UTC
from typing import Any

from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.sync.store import deliveries as notify_store
from chalicelib.runtime import resources
from chalicelib.runtime.metrics import emit
from chalicelib.kernel.working_days import iso
from chalicelib.runtime.tables import get_dossier
from chalicelib.sync.rules import zns
from chalicelib.sync.rules.notifications import address, channels, fallback_channel, render
from chalicelib.sync.adapters.channels import ChannelError, Undeliverable, send
from handlers.consumer import Consumer


class NotificationFailed(Exception):
    pass


def process(event: dict[str, Any]) -> dict[str, Any]:
    code = event["dossier_code"]
    dossier = get_dossier(code)
    if dossier is None:
        return {"skipped": "unknown dossier"}
    message = render(event, dossier, catalogue.agency_name(dossier.get("holder_agency_id") or dossier["agency_id"]))
    if message is None:
        return {"skipped": "no template"}
    sent, failed = [], []
    pending = channels(dossier)
    while pending:
        channel = pending.pop(0)
        to = address(channel, dossier)
        now = iso(datetime.now(UTC))
        if not to or not notify_store.claim(code, event["id"], channel, now):
            continue
        try:
            provider_id = send(channel, to, message, tracking_id=f"{event['id']}:{channel}", dossier_code=code)
        except Undeliverable as error:
            notify_store.mark_undeliverable(code, event["id"], channel, str(error), now)
            consumer.logger.warning("notification undeliverable", extra={"dossier_code": code, "error": str(error)})
            if error.kind == zns.ACCOUNT:
                emit(resources.ZALO_ACCOUNT_ERRORS, 1)
            pending += [c for c in [fallback_channel(dossier, channel)] if c and c not in pending]
            continue
        except ChannelError as error:
            notify_store.release(code, event["id"], channel)
            failed.append(str(error))
            continue
        notify_store.mark_sent(code, event["id"], channel, provider_id, now)
        sent.append(channel)
    if failed:
        consumer.logger.warning("notification failed", extra={"dossier_code": code, "errors": failed, "sent": sent})
        raise NotificationFailed("; ".join(failed))
    return {"sent": sent}


consumer = Consumer("notifications", process, queue=resources.NOTIFICATIONS_QUEUE)
handler = consumer.handler
