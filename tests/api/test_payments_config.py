"""Payment settings: the credentials from the stage secret in AWS, never the fake outside the local stage,
never in a repr; the local dispatcher runs the reconciliation schedule on its rate."""
from __future__ import annotations

import pytest

from chalicelib.payments.adapters import providers as payment_config
from chalicelib.runtime import resources
from chalicelib.runtime.settings import FAKE_VNPAY_HASH_SECRET, settings
from motcua.dispatcher import SchedulePump


@pytest.fixture(autouse=True)
def fresh_settings():
    payment_config.reset()
    yield
    payment_config.reset()
    settings.cache_clear()


@pytest.mark.parametrize("value", [FAKE_VNPAY_HASH_SECRET, "SET-ME"])
def test_an_aws_stage_refuses_a_vnpay_secret_holding_the_local_fake_or_the_placeholder(prod_secrets, monkeypatch, value):
    from chalicelib.runtime.credentials import SecretMissing
    monkeypatch.setenv("VNPAY_HASH_SECRET", "an-environment-value-is-ignored")
    prod_secrets("vnpay", {"tmn_code": "PRODTMN1", "hash_secret": value})
    with pytest.raises(SecretMissing):
        payment_config.payment_settings()


@pytest.mark.parametrize("url", ["https://portal.example.vn\r\nSet-Cookie: x=1", "javascript:alert(1)", "portal.example.vn",
                                 "https://portal example.vn"])
def test_a_public_url_that_is_not_a_plain_http_url_is_refused_by_name(monkeypatch, url):
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", url)
    with pytest.raises(RuntimeError, match="MOTCUA_PUBLIC_URL"):
        payment_config.payment_settings()


def test_the_public_url_is_kept_without_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "https://dichvucong.example.vn/")
    assert payment_config.payment_settings().public_url == "https://dichvucong.example.vn"


def test_aws_stages_read_vnpay_credentials_from_the_stage_secret(prod_secrets, monkeypatch):
    monkeypatch.setenv("VNPAY_HASH_SECRET", "an-environment-value-is-ignored")
    prod_secrets("vnpay", {"tmn_code": "PRODTMN1", "hash_secret": "s3cr3t-from-sm"})
    cfg = payment_config.payment_settings()
    assert (cfg.tmn_code, cfg.hash_secret) == ("PRODTMN1", "s3cr3t-from-sm")
    assert "s3cr3t" not in repr(cfg) and "s3cr3t" not in repr(payment_config.provider())


def test_the_schedule_pump_runs_the_handler_once_per_period():
    now = [0.0]
    runs: list[str] = []
    pump = SchedulePump(resources.RECONCILE_SCHEDULE, handler=lambda event, ctx: runs.append(event["detail-type"]),
                        clock=lambda: now[0])
    assert resources.RECONCILE_SCHEDULE.expression == "rate(15 minutes)"
    assert pump.step() is False and runs == []
    now[0] = 15 * 60
    pump.step()
    pump.step()
    assert runs == ["Scheduled Event"]
    now[0] = 30 * 60
    pump.step()
    assert len(runs) == 2


def test_vnpay_production_pay_page_and_merchant_api_can_live_apart_from_its_host(monkeypatch):
    monkeypatch.setenv("VNPAY_HOST", "https://pay.vnpay.vn")
    monkeypatch.setenv("VNPAY_PAY_URL", "https://pay.vnpay.vn/vpcpay.html")
    monkeypatch.setenv("VNPAY_API_URL", "https://merchant.vnpay.vn/merchant_webapi/api/transaction")
    provider = payment_config.provider()
    assert (provider.pay_url, provider.api_url) == ("https://pay.vnpay.vn/vpcpay.html",
                                                    "https://merchant.vnpay.vn/merchant_webapi/api/transaction")
