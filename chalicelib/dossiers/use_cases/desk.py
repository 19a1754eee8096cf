"""Intake at the one-stop desk: walk-in and postal dossiers go through the same intake path
as online ones (intake.submit), so every dossier is in the system.

Any desk of the province may take a dossier for any procedure, whatever the administrative
boundary (Decree 118/2025/NĐ-CP on the one-stop mechanism). The dossier records both the
competent agency (``agency_id``, from the procedure: its queue, its code, its report) and the
receiving desk (``receiving_agency_id``, the officer's agency), which keeps reading and
tracking it, hands it over (acceptance), takes supplements, returns the result at its counter
and records the citizen's rating (chalicelib/trust/rules/permissions.py, scopes ``desk`` and
``receiving``).

The officer who records it is the submitter: the Idempotency-Key is scoped to that officer
and the uploads are the officer's scans. The dossier's owner is ``desk:{officer}``, a
subject no citizen token can have; the applicant follows it with the code and phone digits
(GET /track), and the desk acts for them (supplements, withdrawal).
"""
from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from chalicelib.dossiers.use_cases import intake
from chalicelib.trust.rules import permissions
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.trust.rules.identity import Identity

DESK_CHANNELS = ("direct", "postal")


def desk_owner(officer_sub: str) -> str:
    return f"desk:{officer_sub}"


def submit_at_desk(body: Any, identity: Identity, idempotency_key: str) -> tuple[dict[str, Any], bool]:
    permissions.scope_of(identity, "dossier.desk_submit")
    errors: dict[str, str] = {}
    channel = body.get("channel") if isinstance(body, Mapping) else None
    consent = body.get("consent") if isinstance(body, Mapping) else None
    if channel not in DESK_CHANNELS:
        errors["channel"] = "Hình thức nhận (channel) phải là direct (trực tiếp) hoặc postal (bưu chính)."
    if not isinstance(consent, bool):
        errors["consent"] = "Cần ghi nhận người nộp có đồng ý xử lý dữ liệu cá nhân hay không (true/false)."
    if errors or not isinstance(channel, str):
        raise ValidationFailed(fields=errors)
    return intake.submit(body, identity, idempotency_key, channel=channel, owner_sub=desk_owner(identity.sub),
                         extra={"consent": consent, "received_by": identity.sub},
                         receiving_agency_id=identity.agency_id)
