"""Sending a notification: SMS through Amazon SNS, email through Amazon SES, Zalo through a
ZNS-style HTTP API (``requests``). Locally (and in tests) SNS and SES are moto, Zalo is the
loopback simulator, and every channel also appends what it sent to a JSON-lines sink
(MOTCUA_NOTIFICATIONS_SINK) that ``motcua notifications tail`` prints.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, UTC
from typing import Any


from chalicelib.runtime import aws
from chalicelib.runtime.settings import FAKE_ZALO_TOKEN, settings
from chalicelib.kernel.working_days import iso
from chalicelib.sync.rules import zns
from chalicelib.sync.rules.notifications import Message, e164

_SINK_LOCK = threading.Lock()


class ChannelError(Exception):
    """The provider did not take the message; the delivery is retried later."""


class Undeliverable(ChannelError):
    """The provider refused the message for good (ZNS: no Zalo account, invalid template
    data, template not approved, quota spent; chalicelib/sync/rules/zns.py ERRORS): retrying
    changes nothing, so the delivery is not retried. ``kind``: the ZNS error's kind
    (zns.RECIPIENT, MESSAGE or ACCOUNT)."""

    def __init__(self, detail: str, kind: str) -> None:
        super().__init__(detail)
        self.kind = kind


def email_sender() -> str:
    return settings().notifications.email_sender


def _sms(to: str, message: Message, tracking_id: str) -> str:
    answer = aws.client("sns").publish(
        PhoneNumber=e164(to), Message=message.text,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
    return answer["MessageId"]


def _email(to: str, message: Message, tracking_id: str) -> str:
    answer = aws.client("ses").send_email(
        Source=email_sender(), Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"},
                 "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}}})
    return answer["MessageId"]


def _zalo_token(*, fresh: bool = False) -> str:
    """The OA access token: MOTCUA_ZALO_TOKEN locally, else the ``zalo`` secret, which the
    zalo-token schedule keeps fresh (chalicelib/sync/adapters/zalo_token.py). Before its first renewal
    there is none: SecretMissing, which ``send`` turns into a ChannelError like any other
    failure, so the message waits for a retry. ``fresh`` reads the secret past its cache."""
    from chalicelib.runtime.credentials import secret, stage_credentials
    local = settings().local_credentials.zalo_token
    if fresh and not settings().is_local:
        secret("zalo", fresh=True)   # refills the cache stage_credentials reads
    return stage_credentials("zalo", {"access_token": (local, FAKE_ZALO_TOKEN)})["access_token"]


def _zalo_post(to: str, message: Message, tracking_id: str, token: str) -> tuple[int, Any]:
    """One ZNS call: POST {base}/message/template, ``access_token`` header, phone as
    84xxxxxxxxx; the HTTP status and the JSON answer."""
    import requests  # on first use: most notifications (SMS, email) never need it

    zalo = settings().zalo
    body = {"phone": e164(to).lstrip("+"), "template_id": message.zalo_template,
            "template_data": message.zalo_data, "tracking_id": tracking_id}
    try:
        response = requests.post(f"{zalo.url}/message/template", json=body, headers={"access_token": token},
                                 timeout=zalo.timeout_seconds)
        return response.status_code, response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ChannelError(f"zalo: {type(exc).__name__}") from None


def _zns_error(answer: Any) -> Any:
    return answer.get("error") if isinstance(answer, dict) else None


def _zalo(to: str, message: Message, tracking_id: str) -> str:
    """Send by ZNS. An invalid access token (-124) is most likely one the zalo-token schedule
    has just renewed while this container still holds the old one in its secrets cache (up
    to 15 min): the secret is read again at once and the message sent once more with the new
    token. Senders never renew it themselves: each renewal spends the refresh token."""
    token = _zalo_token()
    status, answer = _zalo_post(to, message, tracking_id, token)
    if status < 500 and _zns_error(answer) == -124 and (renewed := _zalo_token(fresh=True)) != token:
        status, answer = _zalo_post(to, message, tracking_id, renewed)
    error = _zns_error(answer)
    if status < 500 and zns.permanent(error):
        kind = zns.error_kind(error)
        raise Undeliverable(f"zalo: error {error}, {kind} ({str(answer.get('message', ''))[:100]})", kind)
    if status >= 400 or error != 0:
        raise ChannelError(f"zalo: HTTP {status}, error {error if error is not None else '?'}")
    data = answer.get("data")
    return str(data.get("msg_id", "")) if isinstance(data, dict) else ""


SENDERS = {"sms": _sms, "email": _email, "zalo": _zalo}


def send(channel: str, to: str, message: Message, *, tracking_id: str, dossier_code: str) -> str:
    """Send through one channel; returns the provider's message id."""
    try:
        provider_id = SENDERS[channel](to, message, tracking_id)
    except ChannelError:
        raise
    except Exception as exc:  # SNS/SES client errors, throttling, endpoint down
        raise ChannelError(f"{channel}: {type(exc).__name__}: {exc}") from None
    _sink({"at": iso(datetime.now(UTC)), "channel": channel, "to": to, "dossier_code": dossier_code,
           "event_type": message.event_type, "subject": message.subject, "text": message.text,
           "tracking_id": tracking_id, "provider_id": provider_id})
    return provider_id


def _sink(record: dict[str, Any]) -> None:
    path = settings().notifications.sink_file
    if not path:
        return
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _SINK_LOCK, open(path, "a", encoding="utf-8") as sink:
        sink.write(line)
