"""The retention purge, run once a day (chalicelib.runtime.resources.RETENTION_SCHEDULE).

Deletes the uploaded files of dossiers closed more than MOTCUA_ATTACHMENT_RETENTION_YEARS
ago and marks those dossiers purged; `motcua privacy purge` runs the same function by hand.
"""
from __future__ import annotations

from typing import Any

from chalicelib.runtime.log import logger as make_logger
from chalicelib.trust.use_cases.privacy import purge

logger = make_logger("attachments-retention")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = purge()
    return {key: value for key, value in summary.items() if key != "codes"}
