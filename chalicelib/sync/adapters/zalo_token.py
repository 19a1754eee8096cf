"""Zalo Official Account access tokens, kept fresh in the stage's ``zalo`` secret.

ZNS calls carry an OA access token, which lives 25 hours. A new one comes from Zalo's OAuth
server in exchange for the app's secret key and a refresh token, and every exchange also
returns a new refresh token: the old one is spent. Two Lambda containers refreshing at once
would spend the same refresh token and one of them would lose the account, so there is one
writer: the ``zalo-token`` schedule (handlers/zalo_token.py) runs hourly, refreshes when the
token has less than ``REFRESH_MARGIN`` left, and writes the whole secret back. Senders only
read the secret, cached for at most MOTCUA_SECRETS_MAX_AGE (15 min), well inside the margin,
and read it again at once when ZNS calls their token invalid (-124; adapters/channels.py).

Protocol (developers.zalo.me, OA API): ``POST {oauth}/v4/oa/access_token``, header
``secret_key``, form ``app_id, refresh_token, grant_type=refresh_token`` -> ``{access_token,
refresh_token, expires_in}`` (seconds, sent as a string), or ``{error, error_name,
error_description}``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from collections.abc import Mapping

from chalicelib.kernel.working_days import iso
from chalicelib.runtime.settings import settings

REFRESH_MARGIN = timedelta(hours=3)
EXPIRES_AT = "access_token_expires_at"   # written next to the declared keys, ISO with offset


class RefreshFailed(Exception):
    """Zalo did not give a new token; the schedule's run fails (and alarms) and the next
    run tries again while the current token is still valid."""


def due(stored: Mapping[str, Any], now: datetime) -> bool:
    """Whether the token must be renewed now: none yet, an unreadable expiry, or less than
    the margin left."""
    expires = stored.get(EXPIRES_AT)
    if not stored.get("access_token") or not isinstance(expires, str):
        return True
    try:
        return datetime.fromisoformat(expires) - now < REFRESH_MARGIN
    except ValueError:
        return True


def renewed(stored: Mapping[str, Any], answer: Any, now: datetime) -> dict[str, Any]:
    """The secret after a successful exchange; an answer without both tokens and a lifetime
    is a failure, never half-written."""
    if not isinstance(answer, dict) or ("error" in answer and answer["error"] not in (0, None)):
        code = answer.get("error") if isinstance(answer, dict) else None
        name = answer.get("error_name") if isinstance(answer, dict) else None
        raise RefreshFailed(f"zalo oauth: error {code}: {name}")
    access, refresh, lifetime = answer.get("access_token"), answer.get("refresh_token"), answer.get("expires_in")
    if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh
            and isinstance(lifetime, (int, str)) and str(lifetime).isdigit()):
        raise RefreshFailed("zalo oauth: the answer lacks a token or its lifetime")
    return {**stored, "access_token": access, "refresh_token": refresh,
            EXPIRES_AT: iso(now + timedelta(seconds=int(lifetime)))}


def exchange(stored: Mapping[str, Any]) -> Any:
    """One call to Zalo's OAuth server (MOTCUA_ZALO_OAUTH_URL); its JSON answer."""
    import requests

    zalo = settings().zalo
    try:
        response = requests.post(f"{zalo.oauth_url}/v4/oa/access_token", headers={"secret_key": stored["secret_key"]},
                                 data={"app_id": stored["app_id"], "refresh_token": stored["refresh_token"],
                                       "grant_type": "refresh_token"},
                                 timeout=zalo.timeout_seconds)
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise RefreshFailed(f"zalo oauth: {type(exc).__name__}") from None
