"""The reconciliation sweep, run every 15 minutes (chalicelib.runtime.resources.RECONCILE_SCHEDULE).

It asks each payment's provider (VNPay: querydr) about every payment still pending after
MOTCUA_RECONCILE_AFTER_MINUTES and applies each answer through the IPN's own code path, so a
lost IPN heals itself. `motcua payments reconcile` runs the same function by hand.
"""
from __future__ import annotations

from typing import Any

from chalicelib.trust.rules.audit import bind_request
from chalicelib.runtime.log import logger as make_logger
from chalicelib.payments.use_cases.payments import sweep

logger = make_logger("payments-reconcile")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    with bind_request(getattr(context, "aws_request_id", None)):  # on the audit records of what it heals
        return sweep()
