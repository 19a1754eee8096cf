"""Use cases of corrections and of the dossier history (see chalicelib/dossiers/rules/corrections.py)."""
from __future__ import annotations

from typing import Any

from chalicelib.trust.rules import audit
from chalicelib.dossiers.rules import corrections
from chalicelib.dossiers.use_cases import intake
from chalicelib.trust.rules import permissions
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store.attachments import missing_uploads
from chalicelib.kernel.working_days import iso, to_local
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.kernel.events import dossier_event
from chalicelib.trust.rules.identity import Identity
from chalicelib.dossiers.use_cases.intake import Clock, utc_now


def request_correction(code: str, identity: Identity, body: Any, *, clock: Clock = utc_now) -> dict[str, Any]:
    dossier = intake.load_for(code, identity, "correction.request")
    now = to_local(clock())
    correction = corrections.validate_request(body, dossier, now)
    evidence = [{"upload_id": correction["evidence_upload_id"], "name": "evidence"}]
    if missing_uploads(identity.sub, evidence, key="evidence"):
        raise ValidationFailed(fields={"evidence_upload_id": "Không tìm thấy tài liệu chứng minh đã tải lên."})
    expected, before = dossier["version"], audit.snapshot(dossier)
    corrections.request(dossier, correction, by=identity.sub, at=iso(now))
    event = dossier_event("DossierCorrectionRequested", dossier, occurred_at=iso(now), data={
        "correction_id": correction["id"], "field": correction["field"], "original": correction["original"],
        "value": correction["value"], "requested_by": identity.sub})
    store.save_transition(dossier, event, expected_version=expected,
                          audit_record=audit.change(before, dossier, [event], identity))
    return correction


def decide_correction(code: str, correction_id: str, identity: Identity, *, approve: bool, note: Any,
                      clock: Clock = utc_now) -> dict[str, Any]:
    action = "correction.approve" if approve else "correction.reject"
    permissions.scope_of(identity, action)
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise ValidationFailed(fields={"note": "Ghi chú là chuỗi tối đa 2000 ký tự."})
    dossier = permissions.check(identity, action, store.get_dossier(code))
    expected, before = dossier["version"], audit.snapshot(dossier)
    now = iso(to_local(clock()))
    correction = corrections.decide(dossier, correction_id, approve=approve, by=identity.sub, at=now, note=note)
    event_type = "DossierCorrectionApproved" if approve else "DossierCorrectionRejected"
    event = dossier_event(event_type, dossier, occurred_at=now, data={
        "correction_id": correction_id, "field": correction["field"], "original": correction["original"],
        "value": correction["value"], "decided_by": identity.sub})
    store.save_transition(dossier, event, expected_version=expected,
                          audit_record=audit.change(before, dossier, [event], identity))
    return correction


def history(code: str, identity: Identity) -> dict[str, Any]:
    """Every recorded change of the dossier, in version order, and its corrections."""
    dossier = intake.load_for(code, identity, "dossier.history")
    return {"dossier_code": code, "version": dossier["version"], "events": store.dossier_events(code),
            "corrections": dossier.get("corrections", [])}
