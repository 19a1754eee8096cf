"""Delivery records of notifications: at most once per event per channel.

A record is claimed (conditional put) before the provider is called and marked sent after.
If the provider fails, the claim is released so the retry can send; if the Lambda dies
between the provider call and the mark, the claim stays and nothing is ever sent twice.
"""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.runtime.models import NotificationItem
from chalicelib.runtime.tables import dossier_pk

KEEP = timedelta(days=30)


def _key(event_id: str, channel: str) -> str:
    return f"NOTIFY#{event_id}#{channel}"


def claim(code: str, event_id: str, channel: str, at: str) -> bool:
    """True if this call may send; False if it was sent (or is being sent) already."""
    item = NotificationItem(pk=dossier_pk(code), sk=_key(event_id, channel), state="sending", at=at, ttl=KEEP)
    try:
        item.save(condition=NotificationItem.pk.does_not_exist())
        return True
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def mark_sent(code: str, event_id: str, channel: str, provider_id: str, at: str) -> None:
    NotificationItem(pk=dossier_pk(code), sk=_key(event_id, channel), state="sent", provider_id=provider_id,
                     at=at, ttl=KEEP).save()


def mark_undeliverable(code: str, event_id: str, channel: str, reason: str, at: str) -> None:
    """The provider refused the message for good: kept, so no retry or redelivery sends it."""
    NotificationItem(pk=dossier_pk(code), sk=_key(event_id, channel), state="undeliverable",
                     provider_id=reason[:200], at=at, ttl=KEEP).save()


def release(code: str, event_id: str, channel: str) -> None:
    try:
        NotificationItem(pk=dossier_pk(code), sk=_key(event_id, channel)).delete(
            condition=NotificationItem.state == "sending")
    except DeleteError:
        pass
