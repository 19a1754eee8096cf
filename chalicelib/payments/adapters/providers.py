"""Payment settings and the providers this stage serves: the app's one door to the registry.

Nothing else in chalicelib or handlers names a provider module: callers ask ``provider(name)``
and speak the interface of ``payments`` (create, verify a callback, query, refund). Only the
providers this stage serves are built: the online ones listed in ``MOTCUA_PAYMENT_PROVIDERS``
(the first is the default) and the desk's ``counter``. A callback naming any other registered
provider (the in-memory fake, whose secret is public) never reaches the ledger, and the counter
takes no callback at all.

The settings are chalicelib.runtime.settings' (docs/settings.md), which also checks
MOTCUA_PUBLIC_URL at cold start. Credentials come from the local settings in the local stage
and in every other stage only from the provider's secret (``motcua/{stage}/vnpay``,
``motcua/{stage}/paygov``, created by infra/), where the local fakes are refused; a provider's
secret is read the first time that provider is built. Secrets are kept out of ``repr`` and
never logged. Providers (top-level ``payments/``) read no settings of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

from payments import PaymentProvider, get_provider

from chalicelib.runtime.settings import (
    FAKE_PAYGOV_ACCESS_TOKEN, FAKE_PAYGOV_PARTNER_CODE, FAKE_PAYGOV_SECRET_KEY, FAKE_VNPAY_HASH_SECRET,
    FAKE_VNPAY_TMN_CODE, settings,
)

COUNTER = "counter"   # fees taken at the one-stop desk (payments/counter.py)


@dataclass(frozen=True)
class PaymentSettings:
    provider: str                # the default online provider (the first of ``providers``)
    providers: tuple[str, ...]   # the online providers this stage offers citizens, in order
    tmn_code: str
    host: str
    public_url: str
    ttl_minutes: int
    reconcile_after_minutes: int
    hash_secret: str = field(repr=False)
    pay_url: str | None = None   # production's pay page and merchant API live apart from ``host``
    api_url: str | None = None


def _vnpay_credentials() -> tuple[str, str]:
    """(terminal code, hash secret): the settings locally, the stage's ``vnpay`` secret
    elsewhere (chalicelib.runtime.credentials.stage_credentials, which refuses the local fakes)."""
    from chalicelib.runtime.credentials import stage_credentials
    local = settings().local_credentials
    found = stage_credentials("vnpay", {"tmn_code": (local.vnpay_tmn_code, FAKE_VNPAY_TMN_CODE),
                                        "hash_secret": (local.vnpay_hash_secret, FAKE_VNPAY_HASH_SECRET)})
    return found["tmn_code"], found["hash_secret"]


def paygov_credentials() -> dict[str, str]:
    """partner_code, secret_key and access_token: the settings locally, the ``paygov`` secret elsewhere."""
    from chalicelib.runtime.credentials import stage_credentials
    local = settings().local_credentials
    return stage_credentials("paygov", {
        "partner_code": (local.paygov_partner_code, FAKE_PAYGOV_PARTNER_CODE),
        "secret_key": (local.paygov_secret_key, FAKE_PAYGOV_SECRET_KEY),
        "access_token": (local.paygov_access_token, FAKE_PAYGOV_ACCESS_TOKEN)})


def _listed() -> tuple[str, ...]:
    return tuple(name.strip() for name in settings().payments.providers.split(","))


@lru_cache(maxsize=1)
def payment_settings() -> PaymentSettings:
    cfg = settings()
    listed = _listed()
    tmn_code, secret = _vnpay_credentials() if "vnpay" in listed else ("", "")
    return PaymentSettings(
        provider=listed[0], providers=listed, tmn_code=tmn_code, host=cfg.vnpay.host, public_url=cfg.public_url,
        ttl_minutes=cfg.payments.ttl_minutes, reconcile_after_minutes=cfg.payments.reconcile_after_minutes,
        hash_secret=secret, pay_url=cfg.vnpay.pay_url, api_url=cfg.vnpay.api_url,
    )


_override: PaymentProvider | None = None


class UnknownProvider(LookupError):
    """No provider of that name is served by this deployment."""


@cache
def _built(name: str) -> PaymentProvider:
    """Each served provider once per warm Lambda."""
    if name == "vnpay":
        cfg = payment_settings()
        return get_provider("vnpay", tmn_code=cfg.tmn_code, hash_secret=cfg.hash_secret, host=cfg.host,
                            pay_url=cfg.pay_url, api_url=cfg.api_url, timeout=(3.05, 10))
    if name == "paygov":
        paygov = settings().paygov
        return get_provider("paygov", host=paygov.host, init_url=paygov.init_url, query_url=paygov.query_url,
                            timeout=(3.05, 10), **paygov_credentials())
    return get_provider(name)


def configured_name() -> str:
    """The default online provider: what a citizen's payment uses when it names none."""
    return payment_settings().provider.lower()


def online_names() -> tuple[str, ...]:
    """The online providers this stage offers citizens, in order."""
    return payment_settings().providers


def provider(name: str | None = None) -> PaymentProvider:
    """The provider called ``name`` (default: this stage's default online provider), built once
    per warm Lambda; UnknownProvider for any name this deployment does not serve."""
    name = configured_name() if name is None else name
    if name == COUNTER:
        return _built(COUNTER)
    if name not in online_names():
        raise UnknownProvider(name)
    if _override is not None and name == configured_name():
        return _override
    return _built(name)


def callback_provider(name: str) -> PaymentProvider:
    """The online provider whose notifications and return pages are served under ``name``:
    the counter takes none, so its name is as unknown there as any other."""
    if name == COUNTER:
        raise UnknownProvider(name)
    return provider(name)


def use_provider(instance: PaymentProvider) -> None:
    """Replace the default online provider (tests of fault paths with payments.fake.FakeProvider)."""
    global _override
    _override = instance


def reset() -> None:
    """Forget the payment settings and providers (tests change VNPAY_HOST between simulators)."""
    global _override
    _override = None
    payment_settings.cache_clear()
    _built.cache_clear()
