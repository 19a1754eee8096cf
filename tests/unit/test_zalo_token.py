"""When the Zalo OA access token is renewed, and what a renewal writes (no AWS, no HTTP)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.kernel.working_days import TZ, iso
from chalicelib.sync.adapters.zalo_token import EXPIRES_AT, REFRESH_MARGIN, RefreshFailed, due, renewed

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=TZ)
ACCOUNT = {"app_id": "app", "secret_key": "key", "refresh_token": "r1"}


@pytest.mark.parametrize("stored", [ACCOUNT, {**ACCOUNT, "access_token": "a"}, {**ACCOUNT, "access_token": "a", EXPIRES_AT: "soon"},
                                    {**ACCOUNT, "access_token": "a", EXPIRES_AT: iso(NOW + REFRESH_MARGIN - timedelta(seconds=1))}])
def test_a_token_that_is_missing_unreadable_or_inside_the_margin_is_due(stored):
    assert due(stored, NOW)


def test_a_token_with_more_than_the_margin_left_is_kept():
    assert not due({**ACCOUNT, "access_token": "a", EXPIRES_AT: iso(NOW + REFRESH_MARGIN + timedelta(minutes=1))}, NOW)


def test_a_renewal_keeps_the_account_and_stores_both_new_tokens_and_the_expiry_with_its_offset():
    value = renewed(ACCOUNT, {"access_token": "a2", "refresh_token": "r2", "expires_in": "90000"}, NOW)
    assert value == {"app_id": "app", "secret_key": "key", "refresh_token": "r2", "access_token": "a2",
                     EXPIRES_AT: "2026-11-23T10:00:00+07:00"}


@pytest.mark.parametrize("answer", [{"error": -14014, "error_name": "Invalid refresh_token"}, {"access_token": "a2"},
                                    {"access_token": "a2", "refresh_token": "r2", "expires_in": "soon"}, "not json", None])
def test_an_error_or_incomplete_answer_is_a_failure_not_a_partial_secret(answer):
    with pytest.raises(RefreshFailed):
        renewed(ACCOUNT, answer, NOW)
