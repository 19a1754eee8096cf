"""Renews the Zalo OA access token in the stage's ``zalo`` secret, hourly
(chalicelib.runtime.resources.ZALO_TOKEN_SCHEDULE; why one writer: chalicelib/sync/adapters/zalo_token.py).

The local stage has no secret: its senders use MOTCUA_ZALO_TOKEN, so a run there does
nothing and says so. A failed exchange raises, which counts as a Lambda error and alarms;
the current token still has at least two hours left for the next run to try again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.runtime import credentials as secrets
from chalicelib.sync.adapters import zalo_token
from chalicelib.kernel.working_days import TZ
from chalicelib.runtime.settings import settings
from chalicelib.runtime.log import logger as make_logger

logger = make_logger("zalo-token")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if settings().is_local:
        return {"renewed": False, "reason": "the local stage sends with MOTCUA_ZALO_TOKEN"}
    stored = secrets.secret("zalo", fresh=True)
    now = datetime.now(TZ)
    if not zalo_token.due(stored, now):
        return {"renewed": False, "expires_at": stored[zalo_token.EXPIRES_AT]}
    value = zalo_token.renewed(stored, zalo_token.exchange(stored), now)
    secrets.put("zalo", value)
    logger.info("zalo access token renewed", extra={"expires_at": value[zalo_token.EXPIRES_AT]})
    return {"renewed": True, "expires_at": value[zalo_token.EXPIRES_AT]}
