"""Use cases of the intake desk: submit, accept, refuse, read, list, track.

Each function takes already-parsed input and an Identity, applies the domain rules and
calls the repositories. Nothing here knows about HTTP.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, TypedDict
from collections.abc import Callable

from chalicelib.trust.rules import audit
from chalicelib.catalogue.use_cases import procedures as catalogue
from chalicelib.trust.rules import permissions
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.use_cases import transition
from chalicelib.dossiers.use_cases.transition import Clock, utc_now
from chalicelib.dossiers.store.attachments import missing_uploads
from chalicelib.kernel.working_days import default_calendar, iso, parse_iso, to_local
from chalicelib.catalogue.use_cases.procedures import get_procedure
from chalicelib.catalogue.use_cases.agencies import check_serving
from chalicelib.dossiers.rules.submission import (
    dossier_code, full_view, list_view, new_dossier, phone_matches, public_view, record_uploader,
    stored_file, submission_response, uploader_of, validate_submission,
)
from chalicelib.kernel.errors import Forbidden, MalformedRequest, NotFound, RateLimited, ValidationFailed
from chalicelib.trust.rules.identity import Identity
from chalicelib.dossiers.rules.processing import pauses_of
from chalicelib.dossiers.rules.records import Dossier


class DeskFields(TypedDict, total=False):
    """What the desk records on a dossier beyond the submission (desk.submit_at_desk)."""
    consent: bool | None
    received_by: str | None


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- submit -----------------------------------------------------------------------------

def submit(body: Any, identity: Identity, idempotency_key: str, *, channel: str = "online",
           owner_sub: str | None = None, extra: DeskFields | None = None,
           receiving_agency_id: str | None = None, clock: Clock = utc_now) -> tuple[dict[str, Any], bool]:
    """Create a dossier. Returns (response, replayed). Same key + same body replays the
    first response; same key + another body is a 422. The desk (chalicelib/dossiers/use_cases/desk.py) passes
    its own ``owner_sub`` and ``extra`` fields (consent, receiving officer). The daily number
    is taken first (one atomic ADD), so a rush at one agency never retries; a submission that
    fails after it, a replay included, leaves that number unused (docs/decisions.md)."""
    submission = validate_submission(body)
    digest = request_hash(body)
    try:
        procedure = get_procedure(submission["procedure_code"])
    except NotFound:
        raise ValidationFailed("Mã thủ tục không tồn tại trong danh mục.", code="unknown_procedure",
                               fields={"procedure_code": "Không tìm thấy thủ tục với mã này."}) from None
    today = to_local(clock()).date()
    for serving in {procedure.agency_id, receiving_agency_id or procedure.agency_id}:
        check_serving(serving, today)   # merger day: a retired agency or desk takes nothing (409 agency_retired)
    upload_errors = missing_uploads(identity.sub, submission["attachments"])
    if upload_errors:
        raise ValidationFailed(fields=upload_errors)

    now = to_local(clock())
    day = f"{now:%y%m%d}"
    code = dossier_code(procedure.agency_id, now.date(), store.next_sequence(procedure.agency_id, day))
    dossier = new_dossier(code=code, submission=submission, procedure=procedure,
                          owner_sub=owner_sub or identity.sub, channel=channel, submitted_at=iso(now),
                          receiving_agency_id=receiving_agency_id)
    dossier.update(extra or {})
    if identity.vneid_verified and identity.role == "citizen":
        dossier["applicant"]["vneid_verified"] = True
    record_uploader(dossier, dossier["attachments"], identity.sub)
    event = transition.event("submit", dossier, occurred_at=dossier["submitted_at"], data={
        "channel": channel, "submitted_at": dossier["submitted_at"], "fees": dossier["fees"],
        "amount_due": dossier["amount_due"], "attachment_count": len(dossier["attachments"]),
        "receiving_agency_id": dossier["receiving_agency_id"], "result_delivery": dossier["result_delivery"],
    })
    response = submission_response(dossier)
    try:
        store.create_dossier(dossier, event, idempotency_key=idempotency_key, request_hash=digest,
                             response=response, audit_record=audit.change(None, dossier, [event], identity))
    except store.IdempotentReplay as replay:
        if replay.request_hash != digest:
            raise ValidationFailed(
                "Idempotency-Key này đã được dùng cho một yêu cầu khác.",
                code="idempotency_key_reused",
                fields={"Idempotency-Key": "Khóa đã dùng với nội dung khác; hãy tạo khóa mới."},
            ) from None
        return replay.response, True
    return response, False


# --- reads ------------------------------------------------------------------------------

def load_for(code: str, identity: Identity, action: str = "dossier.read") -> Dossier:
    """The dossier if this caller may perform ``action`` on it (chalicelib.trust.rules.permissions)."""
    return permissions.check(identity, action, store.get_dossier(code))


def read(code: str, identity: Identity) -> dict[str, Any]:
    """The dossier with its national portal sync state, read together in one call.

    It shows the applicant's id number and phone, so a read by anyone but the owner (an
    officer, a leader, an admin) is an audited sensitive read, recorded before the data
    leaves. The citizen reading their own dossier is not recorded: it discloses nothing."""
    from chalicelib.trust.use_cases import audit as audit_log
    from chalicelib.sync.use_cases import status as sync_status
    dossier, ledger = sync_status.read(code)
    if dossier is None and identity.id_number:   # an old dossier of a linked legacy account
        from chalicelib.trust.use_cases import legacy as legacy_service
        old = legacy_service.read(code, identity)
        if old is not None:
            return old
    dossier = permissions.check(identity, "dossier.read", dossier)
    if dossier["owner_sub"] != identity.sub:
        audit_log.append_read(identity, "dossier.read", dossier_code=code)
    return {**full_view(dossier), "national_sync": sync_status.view_of(dossier, ledger)}


def attachment_url(code: str, upload_id: str, identity: Identity) -> dict[str, Any]:
    """A short-lived GET URL for one of the dossier's files, after the same check as reading
    the dossier. One GetItem; signing the URL calls nothing. A download by anyone but the
    owner is an audited sensitive read (one more PutItem), as reading the full dossier is."""
    from chalicelib.trust.use_cases import audit as audit_log
    from chalicelib.dossiers.store.attachments import presign_download

    dossier = load_for(code, identity, "attachment.read")
    item = stored_file(dossier, upload_id)
    if item is None:
        raise NotFound("Hồ sơ không có tệp đính kèm này.", code="attachment_not_found")
    if dossier["owner_sub"] != identity.sub:
        audit_log.append_read(identity, "attachment.download", dossier_code=code, detail={"upload_id": upload_id})
    return presign_download(uploader_of(dossier, upload_id), upload_id, item["name"])


MAX_CODE_LENGTH = 64


def track(code: str, phone_last4: str, client_ip: str, *, now: Callable[[], float] = time.time) -> dict[str, Any]:
    """Public progress lookup, rate-limited per client IP and per code (chalicelib/trust/rules/rate_limits.py).
    2 DynamoDB calls when found (the IP's counter, then the dossier and the code's failures in
    one BatchGetItem), 3 when not (the code's failure counted)."""
    from chalicelib.trust.use_cases import rate_limits
    from chalicelib.trust.rules.rate_limits import track_limits

    at = now()
    per_ip, per_code = track_limits()
    if not rate_limits.hit(per_ip, client_ip, at):
        raise RateLimited(per_ip.retry_after(at))
    unknown = NotFound("Không tìm thấy hồ sơ với mã và 4 số cuối điện thoại đã nhập.", code="dossier_not_found")
    if len(code) > MAX_CODE_LENGTH:
        raise unknown
    dossier, failures = rate_limits.dossier_and_hits(code, per_code, at)
    if failures >= per_code.limit:
        raise RateLimited(per_code.retry_after(at), "Hồ sơ này đã bị tra cứu sai quá nhiều lần, vui lòng thử lại sau.")
    if dossier is None or not phone_matches(dossier, phone_last4):
        rate_limits.hit(per_code, code, at)
        raise unknown
    return public_view(dossier, catalogue.agency_name(dossier["agency_id"]))


def deadline(code: str, identity: Identity) -> dict[str, Any]:
    dossier = load_for(code, identity, "dossier.deadline")
    base = {"dossier_code": dossier["code"], "status": dossier["status"],
            "processing_days": dossier["processing_days"], "supplement_rule": dossier["supplement_rule"]}
    if not dossier["accepted_at"]:
        return {**base, "due_at": None, "explanation": None,
                "message": "Hồ sơ chưa được tiếp nhận nên chưa bắt đầu tính thời hạn giải quyết."}
    days = dossier["processing_days"] + dossier.get("extension_days", 0)
    explanation = default_calendar().explain(
        parse_iso(dossier["accepted_at"]), days, pauses_of(dossier), dossier["supplement_rule"])
    return {**base, "due_at": dossier["due_at"], "explanation": explanation}


RECEIVED_HERE = "here"   # GET /dossiers?received=here: what the desk took in


def list_for(identity: Identity, *, agency_id: str | None, status: str | None, limit: int,
             cursor: str | None, received: str | None = None) -> dict[str, Any]:
    """One page of the dossiers in the caller's scope: a citizen's own, an officer's agency,
    or (scope ``all``) the one agency asked for, so every list is a Query. With
    ``received=here`` the agency's desk list instead: the dossiers taken at its desk, for
    its own procedures or, under Decree 118/2025, for any other agency's."""
    reach = permissions.scope_of(identity, "dossier.list")
    if received is not None and (received != RECEIVED_HERE or reach == permissions.OWN):
        raise ValidationFailed(fields={"received": "Chỉ cán bộ, quản trị dùng được bộ lọc received=here."})
    if reach == permissions.OWN:
        scope, scope_id = "owner", identity.sub
    elif reach == permissions.AGENCY:
        if agency_id and agency_id != identity.agency_id and agency_id not in identity.predecessors:
            raise Forbidden("Cán bộ chỉ xem được hồ sơ của cơ quan mình.", code="agency_out_of_scope")
        scope, scope_id = "agency", agency_id or identity.agency_id or ""   # a predecessor's: history
    else:
        if not agency_id:
            raise ValidationFailed(fields={"agency_id": "Cần chọn cơ quan (agency_id) để xem danh sách hồ sơ."})
        scope, scope_id = "agency", agency_id
    if received:
        scope = "desk"
    try:
        page = store.list_dossiers(scope=scope, scope_id=scope_id, status=status, limit=limit, cursor=cursor)
    except store.BadCursor:
        raise MalformedRequest("Con trỏ phân trang (cursor) không hợp lệ.", code="invalid_cursor",
                               fields={"cursor": "Không hợp lệ hoặc thuộc danh sách khác."}) from None
    desk = None if scope == "owner" else scope_id
    response = {"items": [list_view(item, desk) for item in page.items], "next_cursor": page.next_cursor}
    if identity.id_number and cursor is None and status is None:   # first page: old dossiers too
        from chalicelib.trust.use_cases import legacy as legacy_service
        old = legacy_service.list_items(identity)
        if old is not None:
            response["legacy_items"] = old
    return response


# --- officer decisions (through the one pipeline, chalicelib/dossiers/use_cases/transition.py) ---

def accept(code: str, identity: Identity, *, clock: Clock = utc_now) -> dict[str, Any]:
    """Tiếp nhận: start the clock and set the due date from the working-day calendar, once
    the fees are paid if the procedure takes them first."""
    return full_view(transition.run(code, identity, "accept", clock=clock))


def refuse(code: str, identity: Identity, reason: Any, *, clock: Clock = utc_now) -> dict[str, Any]:
    """Từ chối tiếp nhận, with a reason the citizen will read."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(fields={"reason": "Cần nêu lý do từ chối tiếp nhận."})
    if len(reason) > 2000:
        raise ValidationFailed(fields={"reason": "Lý do dài tối đa 2000 ký tự."})
    return full_view(transition.run(code, identity, "refuse", {"reason": reason.strip()}, clock=clock))
