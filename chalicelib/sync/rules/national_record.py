"""What MotCua tells the national portal about a dossier: the records themselves. Pure.

Three builders, each from the dossier as it is now and the facts the use case looked up
(``RecordFacts``: the status and channel codes, agency names, and a function giving each
stored file's public download link, chalicelib/dossiers/use_cases/file_links.py):

* ``dossier_record``: one element of ``DongBoHoSoMC``'s ``data`` (national-portal.md §3);
* ``progress_records``: the elements of ``CapNhatTienDoHoSoMC`` (§4) for acceptance, every
  step, the end of processing (finished, refused, stopped, withdrawn) and the return. The
  national index reads the end of processing from these (§5, indicator 2.1);
  ``progress_for`` keeps those one transition produced;
* ``rating_record``: the citizen's rating for ``DongBoDanhGia``.

Every code and number is a string, every time ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh on a
24-hour clock. Keys added by other features (``result_delivery``, ``receiving_agency_id``,
``applicant.type``, the files' digitisation flags, a payment's ``provider``) are read with
defaults, so a dossier stored before them still maps. What MotCua's catalogue does not hold
(a fee's national code, a component's or a result's code) is sent empty, not invented.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.kernel.working_days import parse_iso, to_local
from chalicelib.payments.rules.transitions import PARTIALLY_REFUNDED, SUCCEEDED, SUCCEEDED_LATE

# Codes of national-portal.md §3, and which MotCua value gives each.
DELIVERY = {"desk": "0", "post": "1"}                      # HinhThuc: how the result is delivered
APPLICANT_TYPES = {"citizen": "1", "business": "2", "agency": "3", "organization": "4"}   # LoaiDoiTuong
PERSONAL_ID, OLD_ID_CARD, TAX_CODE = "1", "2", "3"         # DinhDanhCHS.LoaiDinhDanh (tax code: our choice, decisions.md)
ONLINE_PAYMENT = {"paygov": "1", "vnpay": "2"}             # DuocThanhToanTrucTuyen; otherwise "0"
FEE_ONLINE, FEE_AT_COUNTER = "1", "2"                      # HinhThucThu
FEE, CHARGE = "1", "2"                                     # LoaiPhiLePhi: phí, lệ phí
PAID_STATUSES = (SUCCEEDED, SUCCEEDED_LATE, PARTIALLY_REFUNDED)    # money the dossier keeps
MAX_SUMMARY, MAX_HANDLER, MAX_NOTE = 1000, 50, 2000
ROLE_TITLES = {"officer": "Chuyên viên", "leader": "Lãnh đạo"}
DESK_UNIT = "Bộ phận Một cửa"


@dataclass(frozen=True)
class RecordFacts:
    """What the builders need besides the dossier: the configured status and channel codes
    (national_mapping.NationalConfig), agency names by id, and the public link of a file."""
    statuses: Mapping[str, int]
    channels: Mapping[str, int]
    agency_names: Mapping[str, str]
    link: Callable[[Mapping[str, Any]], str]

    def agency(self, agency_id: str) -> str:
        return self.agency_names.get(agency_id) or agency_id


def portal_time(value: str | None) -> str:
    """``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh, 24-hour; "" for no value."""
    return to_local(parse_iso(value)).strftime("%Y%m%d%H%M%S") if value else ""


def _cut(text: str | None, limit: int) -> str:
    return (text or "")[:limit]


def _flag(value: Any) -> str:
    return "1" if value else "0"


def _decision(dossier: Mapping[str, Any], action: str) -> Mapping[str, Any]:
    """The last decision of ``action`` in the dossier's log ({} if none)."""
    return next((d for d in reversed(dossier.get("decisions", [])) if d.get("action") == action), {})


def _decided_at(dossier: Mapping[str, Any], action: str) -> str | None:
    entry = _decision(dossier, action)
    return entry.get("effective_at") or entry.get("at")


# --- the applicant -----------------------------------------------------------------------------

def applicant_type(applicant: Mapping[str, Any]) -> str:
    return APPLICANT_TYPES.get(applicant.get("type") or "citizen", "4")


def _identifiers(applicant: Mapping[str, Any]) -> list[dict[str, str]]:
    """A citizen's personal id (12 digits) or old id card (9); an organisation's tax code."""
    if applicant_type(applicant) != "1" and applicant.get("tax_code"):
        return [{"LoaiDinhDanh": TAX_CODE, "SoDinhDanh": applicant["tax_code"]}]
    number = applicant.get("id_number") or ""
    if len(number) == 12:
        return [{"LoaiDinhDanh": PERSONAL_ID, "SoDinhDanh": number}]
    if len(number) == 9:
        return [{"LoaiDinhDanh": OLD_ID_CARD, "SoDinhDanh": number}]
    return []


def _applicant_fields(applicant: Mapping[str, Any]) -> dict[str, Any]:
    organisation = applicant_type(applicant) != "1"
    name = (applicant.get("organization_name") if organisation else None) or applicant.get("full_name", "")
    return {"ChuHoSo": name, "LoaiDoiTuong": applicant_type(applicant),
            "MaDoiTuong": (applicant.get("tax_code") if organisation else None) or applicant.get("id_number", ""),
            "DinhDanhCHS": _identifiers(applicant),
            "SoDienThoai": applicant.get("phone", ""), "Email": applicant.get("email", ""), "Fax": "",
            "ThongTinKhac": _cut(applicant.get("legal_representative") and
                                 f"Người đại diện: {applicant['legal_representative']}", MAX_NOTE),
            "TaiKhoanDuocXacThucVoiVNeID": _flag(applicant.get("vneid_verified"))}


# --- money ------------------------------------------------------------------------------------

def paid_providers(dossier: Mapping[str, Any]) -> list[str]:
    """The providers of the dossier's successful payments; a payment recorded before
    providers were named was VNPay's (the only provider MotCua had)."""
    entries = (dossier.get("payment") or {}).get("payments", [])
    return [e.get("provider") or "vnpay" for e in entries if e.get("status") in PAID_STATUSES]


def online_payment(dossier: Mapping[str, Any]) -> str:
    """"1" paid on PayGov, "2" on the province's own gateway, "0" otherwise (§3)."""
    codes = {ONLINE_PAYMENT[p] for p in paid_providers(dossier) if p in ONLINE_PAYMENT}
    return min(codes) if codes else "0"


def _fee_kind(fee: Mapping[str, Any]) -> str:
    """Lệ phí or phí, as its name says: the catalogue names every fee one or the other
    (Law 97/2015/QH13 on fees and charges) and has no other field for it."""
    return CHARGE if fee.get("name", "").strip().lower().startswith("lệ phí") else FEE


def _fees(dossier: Mapping[str, Any]) -> list[dict[str, str]]:
    providers = paid_providers(dossier)
    method = "" if not providers else FEE_ONLINE if any(p in ONLINE_PAYMENT for p in providers) else FEE_AT_COUNTER
    return [{"TenPhiLePhi": fee["name"], "MaPhiLePhi": "", "HinhThucThu": method,
             "Gia": str(int(fee["amount"])), "LoaiPhiLePhi": _fee_kind(fee)} for fee in dossier.get("fees", [])]


# --- files ------------------------------------------------------------------------------------

def _submitted(item: Mapping[str, Any], link: Callable[[Mapping[str, Any]], str]) -> dict[str, str]:
    return {"TepDinhKemId": item["upload_id"], "TenTepDinhKem": item["name"], "DuongDanTaiTepTin": link(item),
            "MaThanhPhanHoSo": "", "IsDeleted": "False",
            "DuocSoHoa": _flag(item.get("digitised")), "DuocTaiSuDung": _flag(item.get("reused_from")),
            "DuocLayTuKhoDMQG": _flag(item.get("from_citizen_store"))}


def _result_document(item: Mapping[str, Any], link: Callable[[Mapping[str, Any]], str]) -> dict[str, str]:
    return {"TenGiayTo": item["name"], "MaThanhPhanHoSo": "", "GiayToId": item["upload_id"],
            "DuongDanTepTinKetQua": link(item), "MaGiayToKetQua": ""}


def _supplement(index: int, request: Mapping[str, Any], pause: Mapping[str, Any], facts: RecordFacts,
                dossier: Mapping[str, Any]) -> dict[str, Any]:
    """One supplement request: who asked what when, and, once supplied, what came back."""
    supplied = request.get("supplied_at")
    return {"HoSoBoSungId": f"{dossier['code']}-BS{index}", "NguoiYeuCauBoSung": _cut(request.get("requested_by"), 200),
            "NoiDungBoSung": _cut(request.get("reason"), MAX_NOTE), "NgayBoSung": portal_time(request.get("requested_at")),
            "NguoiTiepNhanBoSung": _cut(_officer(dossier, request.get("supplied_by")), 200),
            "ThongTinTiepNhan": _cut(", ".join(request.get("documents", [])), MAX_NOTE),
            "NgayTiepNhanBoSung": portal_time(supplied), "TrangThaiBoSung": _flag(supplied),
            "DanhSachGiayToBoSung": [_submitted(a, facts.link) for a in request.get("attachments", [])],
            "DanhSachLePhiBoSung": [],
            "NgayHenTraTruoc": portal_time(pause.get("due_at_before")),
            "NgayHenTraMoi": portal_time(pause.get("due_at_after"))}


def _officer(dossier: Mapping[str, Any], sub: str | None) -> str:
    """An officer's account; "" for the citizen's own (the portal asks who received it)."""
    return "" if not sub or sub == dossier.get("owner_sub") else sub


def _supplements(dossier: Mapping[str, Any], facts: RecordFacts) -> list[dict[str, Any]]:
    requests, pauses = dossier.get("supplements", []), dossier.get("pauses", [])
    return [_supplement(i, request, pauses[i - 1] if i <= len(pauses) else {}, facts, dossier)
            for i, request in enumerate(requests, 1)]


# --- the dossier record -----------------------------------------------------------------------

def _code(mapping: Mapping[str, int], key: str | None) -> str:
    value = mapping.get(key or "")
    return "" if value is None else str(value)


def dossier_record(dossier: Mapping[str, Any], facts: RecordFacts) -> dict[str, Any]:
    """The whole dossier, as it is now, for DongBoHoSoMC."""
    result = dossier.get("result") or {}
    attachments = dossier.get("attachments", [])
    return {
        "MaHoSo": dossier["code"],
        "MaTTHC": dossier["procedure_code"],
        "TenTTHC": dossier["procedure_name"],
        "MaLinhVuc": dossier.get("field_code") or "",
        "TenLinhVuc": dossier.get("field") or "",
        "KenhThucHien": _code(facts.channels, dossier.get("channel")),
        "HinhThuc": delivery(dossier),
        **_applicant_fields(dossier["applicant"]),
        "GhiChu": "",
        "TrichYeuHoSo": _cut(dossier.get("summary") or dossier["procedure_name"], MAX_SUMMARY),
        "NgayNopHoSo": portal_time(dossier["submitted_at"]),
        "NgayTiepNhan": portal_time(dossier.get("accepted_at")),
        "NgayHenTra": portal_time(dossier.get("due_at")),
        "NgayKetThucXuLy": portal_time(dossier.get("finished_at") or _end_of_processing(dossier)),
        "NgayTra": portal_time(dossier.get("returned_at")),
        "NgayTuChoi": portal_time(_decided_at(dossier, "refuse")),
        "TrangThaiHoSo": _code(facts.statuses, dossier["status"]),
        "DonViXuLy": facts.agency(dossier["agency_id"]),
        "NoiNopHoSo": dossier.get("receiving_agency_id") or dossier["agency_id"],
        "DuocThanhToanTrucTuyen": online_payment(dossier),
        "HoSoCoThanhPhanSoHoa": _flag(any(a.get("digitised") for a in attachments)),
        "DanhSachLePhi": _fees(dossier),
        "TaiLieuNop": [_submitted(a, facts.link) for a in attachments],
        "DanhSachGiayToKetQua": [_result_document(d, facts.link) for d in result.get("documents", [])],
        "DanhSachHoSoBoSung": _supplements(dossier, facts),
    }


def delivery(dossier: Mapping[str, Any]) -> str:
    """How the result is delivered: as the applicant chose (``result_delivery``), else as it
    was returned, else at the desk."""
    chosen = dossier.get("result_delivery") or dossier.get("return_method")
    return DELIVERY.get(chosen or "desk", "0")


ENDINGS = {"stopped": "stop", "withdrawn": "withdraw"}


def _end_of_processing(dossier: Mapping[str, Any]) -> str | None:
    """A stopped or withdrawn dossier ended its processing when it was stopped or withdrawn."""
    action = ENDINGS.get(dossier["status"])
    return _decided_at(dossier, action) if action else None


# --- progress ---------------------------------------------------------------------------------

def _progress(dossier: Mapping[str, Any], facts: RecordFacts, *, by: str | None, title: str, unit: str,
              at: str | None, content: str, status: str, start: str | None, due: str | None) -> dict[str, str]:
    return {"MaHoSo": dossier["code"], "NguoiXuLy": _cut(by or "Chuyên viên", MAX_HANDLER), "ChucDanh": title,
            "ThoiDiemXuLy": portal_time(at), "PhongBanXuLy": unit, "NoiDungXuLy": _cut(content, MAX_NOTE),
            "TrangThai": _code(facts.statuses, status), "NgayBatDau": portal_time(start),
            "NgayKetThucTheoQuyDinh": portal_time(due)}


def _desk(dossier: Mapping[str, Any], facts: RecordFacts) -> str:
    return f"{DESK_UNIT} - {facts.agency(dossier.get('receiving_agency_id') or dossier['agency_id'])}"


def _steps(dossier: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every step the dossier entered: the finished ones, then the current one."""
    held = list(dossier.get("step_history", []))
    current = dossier.get("step")
    return held + ([current] if current else [])


Tag = tuple[str, str]     # (the action of the transition that produced a record, its time)


def _step_records(dossier: Mapping[str, Any], facts: RecordFacts) -> list[tuple[Tag, dict[str, str]]]:
    """A record per step entered: the first by the acceptance, every later one by a forward."""
    records = []
    templates = dossier.get("steps", [])
    for n, step in enumerate(_steps(dossier)):
        template = templates[step["index"] - 1] if 0 < step["index"] <= len(templates) else {}
        note = step.get("note")
        content = f"{step['name']}: {note}" if note else step["name"]
        records.append((("accept" if n == 0 else "forward", step["started_at"]), _progress(
            dossier, facts, by=step.get("assignee") or step.get("entered_by"),
            title=ROLE_TITLES.get(template.get("role", "officer"), "Chuyên viên"), unit=step["unit"],
            at=step["started_at"], content=content, status="processing",
            start=step["started_at"], due=step.get("due_at"))))
    return records


# The ends of a dossier's life the index reads, with the status they report and what they say.
ENDS = (("refuse", "refused", "Từ chối tiếp nhận hồ sơ"), ("stop", "stopped", "Dừng xử lý hồ sơ"),
        ("withdraw", "withdrawn", "Công dân rút hồ sơ"), ("issue_result", "finished", "Đã xử lý xong, có kết quả"),
        ("return_result", "returned", "Đã trả kết quả"))


def _tagged_progress(dossier: Mapping[str, Any], facts: RecordFacts) -> list[tuple[Tag, dict[str, str]]]:
    """(the transition that produced it, record), in the order they happened."""
    tagged: list[tuple[Tag, dict[str, str]]] = []
    accept = _decision(dossier, "accept")
    if accept:
        tagged.append((("accept", accept["at"]), _progress(
            dossier, facts, by=accept.get("by"), title="Cán bộ một cửa", unit=_desk(dossier, facts),
            at=accept.get("effective_at") or accept["at"], content="Tiếp nhận hồ sơ", status="accepted",
            start=dossier.get("accepted_at"), due=dossier.get("due_at"))))
    tagged += _step_records(dossier, facts)
    for action, status, content in ENDS:
        entry = _decision(dossier, action)
        if entry:
            reason = entry.get("reason") or entry.get("decision")
            tagged.append(((action, entry["at"]), _progress(
                dossier, facts, by=entry.get("by"), title="Cán bộ một cửa" if action != "issue_result" else "Chuyên viên",
                unit=_desk(dossier, facts), at=entry.get("effective_at") or entry["at"],
                content=f"{content}: {reason}" if reason else content, status=status,
                start=dossier.get("accepted_at"), due=dossier.get("due_at"))))
    return tagged


def progress_records(dossier: Mapping[str, Any], facts: RecordFacts) -> list[dict[str, str]]:
    """Every progress record of the dossier's life so far, for CapNhatTienDoHoSoMC."""
    return [record for _, record in _tagged_progress(dossier, facts)]


def progress_for(dossier: Mapping[str, Any], facts: RecordFacts, action: str, occurred_at: str) -> list[dict[str, str]]:
    """The progress records the transition ``action`` at ``occurred_at`` (its event's time)
    produced: after a DongBoHoSoMC for that transition, only these are new to the portal."""
    return [record for tag, record in _tagged_progress(dossier, facts) if tag == (action, occurred_at)]


# --- the rating -------------------------------------------------------------------------------

def rating_record(dossier: Mapping[str, Any], facts: RecordFacts) -> dict[str, Any] | None:
    """The citizen's rating for DongBoDanhGia (None before the citizen rated): the nine
    criteria of the national satisfaction index at 0–2 points and the overall 1–5."""
    rating = dossier.get("rating")
    if not rating:
        return None
    return {"MaHoSo": dossier["code"], "MaTTHC": dossier["procedure_code"],
            "DonViXuLy": facts.agency(dossier["agency_id"]), "NgayDanhGia": portal_time(rating["rated_at"]),
            "MucDoHaiLong": str(rating["overall"]), "DanhGiaTaiQuay": _flag(rating.get("at_desk")),
            "DanhSachTieuChi": [{"MaTieuChi": str(key), "Diem": str(points)}
                                for key, points in sorted(rating["criteria"].items(), key=lambda kv: int(kv[0]))],
            "YKien": _cut(rating.get("comment"), MAX_NOTE)}
