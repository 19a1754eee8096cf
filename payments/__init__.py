"""Payment providers behind one interface (see README.md in this folder).

    from payments import get_provider
    provider = get_provider("vnpay", tmn_code=..., hash_secret=..., host=...)

Providers are registered by name with a lazily imported factory, so importing ``payments``
costs nothing and adding PayGov or Stripe is one ``register_provider`` call (or one line in
``_BUILTIN``), never a change to callers.
"""
from __future__ import annotations

import importlib
from typing import Any
from collections.abc import Callable

from .base import (
    CallbackOutcome,
    CallbackParams,
    CallbackReply,
    Notification,
    PaymentError,
    PaymentOutcome,
    PaymentProvider,
    PaymentSession,
    ProviderRejected,
    ProviderUnavailable,
    QueryResult,
    RefundInProgress,
    RefundResult,
    ReturnResult,
    SignatureError,
    check_amount,
)

__all__ = [
    "CallbackOutcome",
    "CallbackParams",
    "CallbackReply",
    "Notification",
    "PaymentError",
    "PaymentOutcome",
    "PaymentProvider",
    "PaymentSession",
    "ProviderRejected",
    "ProviderUnavailable",
    "QueryResult",
    "RefundInProgress",
    "RefundResult",
    "ReturnResult",
    "SignatureError",
    "available_providers",
    "check_amount",
    "get_provider",
    "register_provider",
]

Factory = Callable[..., PaymentProvider]

# name -> "module:attribute", imported on first use
_BUILTIN: dict[str, str] = {
    "vnpay": "payments.vnpay:VNPayProvider",
    "fake": "payments.fake:FakeProvider",
    "paygov": "payments.paygov:PayGovProvider",
    "counter": "payments.counter:CounterProvider",
}
_REGISTRY: dict[str, Factory | str] = dict(_BUILTIN)


def register_provider(name: str, factory: Factory | str) -> None:
    """Register ``factory`` (a callable, or ``"module:attr"``) under ``name``; replaces any existing."""
    if not name or not name.isidentifier():
        raise ValueError(f"invalid provider name {name!r}")
    _REGISTRY[name.lower()] = factory


def available_providers() -> list[str]:
    return sorted(_REGISTRY)


def _resolve(name: str) -> Factory:
    try:
        factory = _REGISTRY[name.lower()]
    except KeyError:
        raise ValueError(f"unknown payment provider {name!r}; known: {', '.join(available_providers())}") from None
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        _REGISTRY[name.lower()] = factory
    return factory


def get_provider(name: str, **config: Any) -> PaymentProvider:
    """Build the provider called ``name`` with ``config`` passed to its constructor."""
    provider = _resolve(name)(**config)
    if not isinstance(provider, PaymentProvider):
        raise TypeError(f"provider {name!r} does not implement PaymentProvider")
    return provider
