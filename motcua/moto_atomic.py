"""Make moto's DynamoDB as atomic as DynamoDB itself, for concurrent tests and the local stack.

moto applies a TransactWriteItems item by item and, when a condition fails, restores a deep
copy of the tables taken before it began. Two threads running transactions at once can
therefore both pass their conditions, or one's rollback can erase the other's committed
write. Real DynamoDB serialises conflicting transactions. Concurrency tests (twenty IPNs at
once, two refunds at once) and the threaded local stack need that guarantee, so every item
operation of moto's DynamoDB backend, and every stream read, runs under one re-entrant
lock. This fixes the emulator; it mocks nothing. ``motcua.moto_scale`` (installed first)
replaces moto's whole-table transaction backup with an item-level one.

Where moto's own rollback still runs (input moto_scale leaves to it), it swaps each table for
its copy, stream shard included, while the table's stream readers (shard iterators) keep the
shard object they started on: they would see the INSERTs of the cancelled transaction
(phantom events for dossiers that were never written) and none of the writes after it.
``_stream_kept_on_cancel`` gives the restored table back its original shard, truncated to
where it stood before the transaction, as DynamoDB Streams never shows a cancelled transaction.
"""
from __future__ import annotations

import functools
import threading
from typing import Any
from collections.abc import Callable

_LOCK = threading.RLock()
_OPERATIONS = ("put_item", "get_item", "query", "scan", "update_item", "delete_item", "transact_write_items")
_installed = False


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)
    return locked


def _stream_kept_on_cancel(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact(self: Any, *args: Any, **kwargs: Any) -> Any:
        shards = {name: (table.stream_shard, len(table.stream_shard.items))
                  for name, table in self.tables.items() if table.stream_shard is not None}
        try:
            return method(self, *args, **kwargs)
        except Exception:
            for name, (shard, length) in shards.items():
                table = self.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    del shard.items[length:]
                    shard.table, table.stream_shard = table, shard
            raise
    return transact


def install() -> None:
    """Idempotent: wrap moto's DynamoDB item operations in the lock (once per process), around
    ``motcua.moto_scale``'s item-level transactions and partition queries (installed first, so
    the lock covers them and every caller of this function gets both)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    from motcua import moto_scale
    moto_scale.install()

    # moto_scale's item-level rollback never swaps a table; moto's own path (input it leaves to
    # moto) still does, and then the stream shard must survive the swap.
    DynamoDBBackend.transact_write_items = _stream_kept_on_cancel(DynamoDBBackend.transact_write_items)
    for name in _OPERATIONS:
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    # Stream reads too: a reader must never see the records of a transaction half-applied
    # (and then rolled back), which real DynamoDB never publishes.
    for name in ("get_shard_iterator", "get_records"):
        setattr(DynamoDBStreamsBackend, name, _serialised(getattr(DynamoDBStreamsBackend, name)))
    _installed = True
