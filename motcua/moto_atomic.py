"""Make moto's DynamoDB as atomic as DynamoDB itself, for concurrent tests and the local stack.

moto applies a TransactWriteItems item by item and, when a condition fails, restores a deep
copy of the tables taken before it began. Two threads running transactions at once can
therefore both pass their conditions, or one's rollback can erase the other's committed
write. Real DynamoDB serialises conflicting transactions. Concurrency tests (twenty IPNs at
once, two refunds at once) and the threaded local stack need that guarantee, so every item
operation of moto's DynamoDB backend runs under one re-entrant lock. This fixes the emulator;
it mocks nothing.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_LOCK = threading.RLock()
_OPERATIONS = ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items")
_installed = False


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)
    return locked


def install() -> None:
    """Idempotent: wrap moto's DynamoDB item operations in the lock (once per process), around
    ``motcua.moto_scale``'s item-level transactions and partition queries (installed first, so
    the lock covers them and every caller of this function gets both)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend

    from motcua import moto_scale
    moto_scale.install()

    for name in _OPERATIONS:
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    _installed = True
