"""What ZNS takes in a template parameter and what its error codes mean (issue 18: the
limits were guesses past the customer name, and only six error codes were known)."""
from __future__ import annotations

import pytest

from chalicelib.sync.rules import zns
from chalicelib.sync.rules.notifications import zalo_data, zalo_types


def test_each_parameter_type_has_the_limit_zalo_publishes():
    """Zalo's table (docs/notifications.md); where the create-template API's copy says 200 for
    the address and the product name, the page's 80 and 100 are kept."""
    limits = {name: kind.limit for name, kind in zns.PARAMETER_TYPES.items()}
    assert limits == {"customer_name": 30, "phone_number": 15, "address": 80, "code": 30, "custom_label": 30,
                      "transaction_status": 30, "contact": 50, "personal_title": 5, "product_name": 100,
                      "amount": 20, "time": 20, "bank_transfer_note": 90, "url": 200, "otp": 10, "currency": 12}
    assert {name for name, kind in zns.PARAMETER_TYPES.items() if not kind.confirmed} == {"otp", "currency"}


def test_every_placeholder_is_registered_with_a_zns_type():
    from tests.unit.test_notification_templates import KNOWN
    assert set(zalo_types()) == KNOWN and set(zalo_types().values()) <= set(zns.PARAMETER_TYPES)


def test_a_type_zns_does_not_have_counts_as_unlisted_not_as_a_failure(monkeypatch):
    from chalicelib.sync.rules import notifications
    monkeypatch.setattr(notifications, "_template_file", lambda: {"_zalo_parameter_types": {
        "reason": "long_text", "code": "code"}})
    assert zalo_types() == {"code": "code"}
    assert len(zalo_data({"reason": "r" * 200}, {"reason"})["reason"]) == 30


def test_each_placeholder_is_cut_to_the_limit_of_its_type_and_an_unlisted_one_to_a_labels():
    context = {"procedure": "Cấp giấy phép xây dựng " * 10, "method": "tại Bộ phận Một cửa của UBND phường",
               "code": "H01.01-261120-0001", "extra": "x" * 40}
    data = zalo_data(context, set(context))
    assert 90 < len(data["procedure"]) <= 100 and data["procedure"].endswith("…")
    assert 25 < len(data["method"]) <= 30 and data["method"].endswith("…")
    assert data["code"] == context["code"] and len(data["extra"]) == 30


def test_times_go_to_zalo_hour_first_as_its_time_type_takes_them():
    """ZNS's "Thời gian" takes hh:mm dd/mm/yyyy, not the dd/mm/yyyy HH:MM the SMS shows:
    every time parameter was refused as invalid template data."""
    data = zalo_data({"at": "20/11/2026 17:00", "due": "04/12/2026 17:00"}, {"at", "due"})
    assert data == {"at": "17:00 20/11/2026", "due": "17:00 04/12/2026"}
    assert all(zns.fits("time", value) for value in data.values())
    assert not zns.fits("time", "20/11/2026 17:00") and not zns.fits("time", "１７:00 20/11/2026")


@pytest.mark.parametrize("code", [-131, -146, -117, -113, -116, -130, -132, -133, -1121, -1122, -1124, -153])
def test_a_template_zalo_has_not_approved_or_data_it_refuses_is_permanent(code):
    assert zns.error_kind(code) in (zns.MESSAGE, zns.ACCOUNT) and zns.permanent(code)


@pytest.mark.parametrize("code", [-110, -114, -134, -139, -140, -141, -1471])
def test_a_user_who_cannot_or_will_not_receive_zns_is_permanent(code):
    assert zns.error_kind(code) == zns.RECIPIENT and zns.permanent(code)


@pytest.mark.parametrize("code", [-115, -137, -144, -147, -1441])
def test_a_spent_balance_or_a_daily_limit_is_permanent_for_the_message(code):
    """Topping up or the next day comes after the queue's ~3.5 h of retries: SMS tells the
    citizen now instead of the DLQ later."""
    assert zns.error_kind(code) == zns.ACCOUNT and zns.permanent(code)


@pytest.mark.parametrize("code", [-101, -102, -103, -104, -105, -120, -125, -135, -136, -138])
def test_an_app_or_oa_zalo_refuses_is_permanent_for_the_message(code):
    assert zns.error_kind(code) == zns.ACCOUNT and zns.permanent(code)


@pytest.mark.parametrize("code", [-100, -124, -129, -99999, None, "-131", True, 0])
def test_an_unknown_error_a_token_being_renewed_and_zalos_own_faults_stay_transient(code):
    assert zns.error_kind(code) == zns.TRANSIENT and not zns.permanent(code)
