"""Payment settings and the configured provider: the app's one door to the provider registry.

Nothing else in chalicelib or handlers names a provider module: callers ask ``provider(name)``
and speak the interface of ``payments`` (create, verify a callback, query, refund). Only the
configured provider is served, so a callback naming any other registered provider (the
in-memory fake, whose secret is public) never reaches the ledger.

Every setting is an environment variable with a local default (README, "Settings"). The
credentials come from ``VNPAY_TMN_CODE`` / ``VNPAY_HASH_SECRET`` in the local stage, and in
every other stage only from its ``vnpay`` secret (``motcua/{stage}/vnpay``, created by infra/),
where the local fakes are refused. The hash secret is kept out of ``repr`` and never logged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from payments import PaymentProvider, get_provider


FAKE_LOCAL_SECRET = "LOCALSIMULATORSECRETNOTREAL"   # the simulator's default; obviously fake
FAKE_LOCAL_TMN = "MOTCUA01"


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


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _public_url() -> str:
    """The portal's public base URL, which VNPay redirects the citizen back to. It goes into a
    Location header, so a value that is not a plain http(s) URL stops the function at start-up
    with the setting's name rather than failing one payment at a time."""
    from urllib.parse import urlsplit

    raw = os.environ.get("MOTCUA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in raw for c in "\r\n\t "):
        raise RuntimeError("MOTCUA_PUBLIC_URL must be an absolute http(s) URL without spaces or line breaks")
    return raw


def _credentials() -> tuple[str, str]:
    """(terminal code, hash secret): the environment locally, the stage's ``vnpay`` secret
    elsewhere (chalicelib.runtime.credentials.stage_credentials, which refuses the local fakes)."""
    from chalicelib.runtime.credentials import stage_credentials
    found = stage_credentials("vnpay", {"tmn_code": ("VNPAY_TMN_CODE", FAKE_LOCAL_TMN),
                                        "hash_secret": ("VNPAY_HASH_SECRET", FAKE_LOCAL_SECRET)})
    return found["tmn_code"], found["hash_secret"]


@lru_cache(maxsize=1)
def payment_settings() -> PaymentSettings:
    tmn_code, secret = _credentials()
    return PaymentSettings(
        provider=os.environ.get("MOTCUA_PAYMENT_PROVIDER", "vnpay"),
        tmn_code=tmn_code,
        host=os.environ.get("VNPAY_HOST", "http://127.0.0.1:8089"),
        public_url=_public_url(),
        ttl_minutes=_int("MOTCUA_PAYMENT_TTL_MINUTES", 15),
        reconcile_after_minutes=_int("MOTCUA_RECONCILE_AFTER_MINUTES", 15),
        hash_secret=secret,
        pay_url=os.environ.get("VNPAY_PAY_URL") or None,
        api_url=os.environ.get("VNPAY_API_URL") or None,
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
    """Forget cached settings and provider (tests change VNPAY_HOST between simulators)."""
    global _override
    _override = None
    payment_settings.cache_clear()
    _configured_provider.cache_clear()
