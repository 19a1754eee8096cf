"""Use cases of corrections and of the dossier history (see chalicelib/dossiers/rules/corrections.py).

A correction keeps the dossier's status but is a change like any other: it runs through the
one pipeline (chalicelib/dossiers/use_cases/transition.py), which loads, saves and audits it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.dossiers.rules import corrections
from chalicelib.dossiers.rules.records import Correction, Dossier
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store.attachments import missing_uploads
from chalicelib.dossiers.use_cases import intake, transition
from chalicelib.dossiers.use_cases.transition import Clock, utc_now
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.kernel.events import dossier_event
from chalicelib.kernel.working_days import iso
from chalicelib.trust.rules import permissions
from chalicelib.trust.rules.identity import Identity

Change = tuple[dict[str, Any], Correction]   # (the event, the correction)


def request_correction(code: str, identity: Identity, body: Any, *, clock: Clock = utc_now) -> Correction:
    def step(dossier: Dossier, now: datetime) -> Change:
        correction = corrections.validate_request(body, dossier, now)
        evidence = [{"upload_id": correction["evidence_upload_id"], "name": "evidence"}]
        if missing_uploads(identity.sub, evidence, key="evidence"):
            raise ValidationFailed(fields={"evidence_upload_id": "Không tìm thấy tài liệu chứng minh đã tải lên."})
        corrections.request(dossier, correction, by=identity.sub, at=iso(now))
        return dossier_event("DossierCorrectionRequested", dossier, occurred_at=iso(now), data={
            "correction_id": correction["id"], "field": correction["field"], "original": correction["original"],
            "value": correction["value"], "requested_by": identity.sub}), correction

    return transition.change(code, identity, "correction.request", step, clock=clock)


def decide_correction(code: str, correction_id: str, identity: Identity, *, approve: bool, note: Any,
                      clock: Clock = utc_now) -> Correction:
    action = "correction.approve" if approve else "correction.reject"
    permissions.scope_of(identity, action)
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise ValidationFailed(fields={"note": "Ghi chú là chuỗi tối đa 2000 ký tự."})

    def step(dossier: Dossier, now: datetime) -> Change:
        at = iso(now)
        correction = corrections.decide(dossier, correction_id, approve=approve, by=identity.sub, at=at, note=note)
        event_type = "DossierCorrectionApproved" if approve else "DossierCorrectionRejected"
        return dossier_event(event_type, dossier, occurred_at=at, data={
            "correction_id": correction_id, "field": correction["field"], "original": correction["original"],
            "value": correction["value"], "decided_by": identity.sub}), correction

    return transition.change(code, identity, action, step, clock=clock)


def history(code: str, identity: Identity) -> dict[str, Any]:
    """Every recorded change of the dossier, in version order, and its corrections."""
    dossier = intake.load_for(code, identity, "dossier.history")
    return {"dossier_code": code, "version": dossier["version"], "events": store.dossier_events(code),
            "corrections": dossier.get("corrections", [])}
