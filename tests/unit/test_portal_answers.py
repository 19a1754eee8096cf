"""Which non-zero national portal answers refuse the record itself (not retried) and which
are a fault a later try may not meet (chalicelib/sync/rules/portal_answers.py)."""
from __future__ import annotations

import unicodedata

import pytest

from chalicelib.sync.rules.portal_answers import may_refuse, verdict


@pytest.mark.parametrize("code, message, expected", [
    (1, "Dữ liệu không hợp lệ", "refused"),
    (1, "NgayTiepNhan: sai định dạng yyyyMMddHHmmss", "refused"),
    (-1, "Mã thủ tục hành chính 1.009994 không tồn tại", "refused"),      # an unknown procedure code
    (2, "", "refused"),                                                   # no words: the record is suspect
    (-3, "Hồ sơ 000.22.30.H50-261121-0001 đã tồn tại", "exists"),
    (3, "HỒ SƠ ĐÃ TỒN TẠI", "exists"),
    (-2, "Phiên làm việc không hợp lệ hoặc đã hết hạn", "session"),
    (-1, "Invalid session", "session"),
    (-99, "Lỗi hệ thống", "portal_fault"),
    (500, "Hệ thống đang bận, vui lòng thử lại sau", "portal_fault"),
    (7, "Đang bảo trì", "portal_fault"),
    (4, "Không tìm thấy hồ sơ 000.22.30.H50-261121-0001 để cập nhật", "missing"),
])
def test_the_portals_own_words_decide_what_a_non_zero_code_means(code, message, expected):
    assert verdict(code, message) == expected


def test_decomposed_vietnamese_reads_the_same_as_composed():
    assert verdict(-3, unicodedata.normalize("NFD", "Hồ sơ đã tồn tại")) == "exists"
    assert verdict(-99, unicodedata.normalize("NFD", "Lỗi hệ thống")) == "portal_fault"


def test_a_code_the_stage_lists_as_the_portals_fault_is_never_a_refused_record():
    assert verdict(12, "Dữ liệu không hợp lệ") == "refused"
    assert verdict(12, "Dữ liệu không hợp lệ", retry_codes={12}) == "portal_fault"


@pytest.mark.parametrize("status, refusing", [(200, True), (201, True), (400, True), (422, True), (404, False),
                                              (409, False), (415, False), (500, False)])
def test_only_an_answer_the_portal_processed_can_refuse_a_record(status, refusing):
    assert may_refuse(status) is refusing
