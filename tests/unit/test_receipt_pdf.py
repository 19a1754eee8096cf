"""The receipt PDF drawn from a receipt record (receipt_pdf), without AWS."""
from __future__ import annotations

import io

from pypdf import PdfReader

from receipt_pdf import render_pdf

RECORD = {
    "number": "BL-000.00.13.H50-261121-0001-01", "dossier_code": "000.00.13.H50-261121-0001",
    "payment_id": "MC2611211000000001", "payer": "Nguyễn Văn An", "amount": 200_000, "currency": "VND",
    "items": [{"name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200_000}],
    "paid_at": "2026-11-21T10:00:00+07:00", "issued_at": "2026-11-21T10:00:05+07:00",
    "provider": "vnpay", "provider_txn_id": "14000001", "agency_id": "000.00.13.H50",
    "procedure_code": "1.001023", "procedure_name": "Cấp Phiếu lý lịch tư pháp cho công dân",
}


def test_the_receipt_reads_in_vietnamese_with_every_field_of_the_record():
    text = PdfReader(io.BytesIO(render_pdf(RECORD, "Sở Tư pháp"))).pages[0].extract_text()
    for needle in ("SỞ TƯ PHÁP", "BIÊN LAI THU PHÍ, LỆ PHÍ", "(Biên lai điện tử)", f"Số: {RECORD['number']}",
                   "Người nộp: Nguyễn Văn An", "Thủ tục: 1.001023 – Cấp Phiếu lý lịch tư pháp cho công dân",
                   "10:00:00 ngày 21/11/2026", "Trực tuyến qua VNPAY", "14000001", "MC2611211000000001",
                   "Phí cung cấp thông tin lý lịch tư pháp", "200.000 đ", "Tổng cộng", "Lập lúc 10:00:05 ngày 21/11/2026"):
        assert needle in text, needle


def test_drawing_a_record_again_gives_the_same_bytes():
    assert render_pdf(RECORD, "Sở Tư pháp") == render_pdf(dict(RECORD), "Sở Tư pháp")


def test_a_receipt_says_how_the_fees_were_paid_at_the_desk_or_through_paygov():
    desk = {**RECORD, "provider": "counter", "provider_txn_id": "QS-0012/2026",
            "method_label": "Nộp trực tiếp tại bộ phận một cửa (tiền mặt)"}
    text = " ".join(PdfReader(io.BytesIO(render_pdf(desk, "Sở Tư pháp"))).pages[0].extract_text().split())
    for needle in ("Hình thức: Nộp trực tiếp tại bộ phận một cửa (tiền mặt)", "Số chứng từ: QS-0012/2026",
                   "cán bộ bộ phận một cửa ghi nhận khoản thu"):
        assert needle in text, needle
    paygov = {**RECORD, "provider": "paygov", "method_label": "Trực tuyến qua Nền tảng thanh toán (PayGov)"}
    assert "Trực tuyến qua Nền tảng thanh toán (PayGov)" in PdfReader(
        io.BytesIO(render_pdf(paygov, "Sở Tư pháp"))).pages[0].extract_text()
