"""Payment settings and the configured provider: the app's one door to the provider registry.

Nothing else in chalicelib or handlers names a provider module: callers ask ``provider(name)``
and speak the interface of ``payments`` (create, verify a callback, query, refund). Only the
configured provider is served, so a callback naming any other registered provider (the
in-memory fake, whose secret is public) never reaches the ledger.

The settings are chalicelib.runtime.settings' (docs/settings.md), which also checks
MOTCUA_PUBLIC_URL at cold start. The credentials come from ``VNPAY_TMN_CODE`` /
``VNPAY_HASH_SECRET`` in the local stage, and in every other stage only from its ``vnpay``
secret (``motcua/{stage}/vnpay``, created by infra/), where the local fakes are refused. The
hash secret is kept out of ``repr`` and never logged. Providers (top-level ``payments/``) read
no settings of their own: they are built here from these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from payments import PaymentProvider, get_provider

from chalicelib.runtime.settings import FAKE_VNPAY_HASH_SECRET, FAKE_VNPAY_TMN_CODE, settings



@dataclass(frozen=True)
class PaymentSettings:
    provider: str
    tmn_code: str
    host: str
    public_url: str
    ttl_minutes: int
    reconcile_after_minutes: int
    hash_secret: str = field(repr=False)
    pay_url: str | None = None   # production's pay page and merchant API live apart from ``host``
    api_url: str | None = None


def _credentials() -> tuple[str, str]:
    """(terminal code, hash secret): the settings locally, the stage's ``vnpay`` secret
    elsewhere (chalicelib.runtime.credentials.stage_credentials, which refuses the local fakes)."""
    from chalicelib.runtime.credentials import stage_credentials
    local = settings().local_credentials
    found = stage_credentials("vnpay", {"tmn_code": (local.vnpay_tmn_code, FAKE_VNPAY_TMN_CODE),
                                        "hash_secret": (local.vnpay_hash_secret, FAKE_VNPAY_HASH_SECRET)})
    return found["tmn_code"], found["hash_secret"]


@lru_cache(maxsize=1)
def payment_settings() -> PaymentSettings:
    tmn_code, secret = _credentials()
    cfg = settings()
    return PaymentSettings(
        provider=cfg.payments.provider,
        tmn_code=tmn_code,
        host=cfg.vnpay.host,
        public_url=cfg.public_url,
        ttl_minutes=cfg.payments.ttl_minutes,
        reconcile_after_minutes=cfg.payments.reconcile_after_minutes,
        hash_secret=secret,
        pay_url=cfg.vnpay.pay_url,
        api_url=cfg.vnpay.api_url,
    )


_override: PaymentProvider | None = None


class UnknownProvider(LookupError):
    """No provider of that name is served by this deployment."""


@lru_cache(maxsize=1)
def _configured_provider() -> PaymentProvider:
    cfg = payment_settings()
    if cfg.provider == "vnpay":
        return get_provider("vnpay", tmn_code=cfg.tmn_code, hash_secret=cfg.hash_secret, host=cfg.host,
                            pay_url=cfg.pay_url, api_url=cfg.api_url, timeout=(3.05, 10))
    return get_provider(cfg.provider)


def configured_name() -> str:
    """The registry name of this deployment's provider: what payments store and URLs carry."""
    return payment_settings().provider.lower()


def provider(name: str | None = None) -> PaymentProvider:
    """The provider called ``name`` (default: this deployment's), built once per warm Lambda;
    UnknownProvider for any name this deployment does not serve."""
    if name is not None and name != configured_name():
        raise UnknownProvider(name)
    return _override if _override is not None else _configured_provider()


def use_provider(instance: PaymentProvider) -> None:
    """Replace the configured provider (tests of fault paths with payments.fake.FakeProvider)."""
    global _override
    _override = instance


def reset() -> None:
    """Forget the payment settings and provider (tests change VNPAY_HOST between simulators)."""
    global _override
    _override = None
    payment_settings.cache_clear()
    _configured_provider.cache_clear()
