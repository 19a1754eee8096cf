"""Make moto's DynamoDB as atomic as DynamoDB itself, for concurrent tests and the local stack.

moto applies a TransactWriteItems item by item and, when a condition fails, restores a deep
copy of the tables taken before it began. Two threads running transactions at once can
therefore both pass their conditions, or one's rollback can erase the other's committed
write. Real DynamoDB serialises conflicting transactions. Concurrency tests (twenty IPNs at
once, two refunds at once) and the threaded local stack need that guarantee, so every item
operation of moto's DynamoDB backend, and every stream read, runs under one re-entrant lock. This fixes the emulator;
it mocks nothing.

moto also backs a transaction up by deep-copying a table once per *item* that names it (a
dossier, its outbox event and its audit record: three copies of the same table state, taken
before any item is applied). ``_copy_each_table_once`` makes those copies one per table per
transaction, which is the same backup at a fraction of the cost: tests keep their budget as
transactions gain items.

The same rollback swaps each table for its copy, stream shard included, while the table's
stream readers (shard iterators) keep the shard object they started on: they would see the
INSERTs of the cancelled transaction (phantom events for dossiers that were never written)
and none of the writes after it. ``_stream_kept_on_cancel`` gives the restored table back
its original shard, truncated to where it stood before the transaction, as DynamoDB Streams
never shows a cancelled transaction.
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


class _CopyOnce:
    """Stands in for the ``copy`` module inside moto's DynamoDB models during one transaction:
    the first deep copy of a table is reused for that table's later items."""

    def __init__(self, real: Any, table_type: type) -> None:
        self._real, self._table_type, self._copies = real, table_type, {}

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if not isinstance(value, self._table_type):
            return self._real.deepcopy(value, memo)
        if id(value) not in self._copies:
            self._copies[id(value)] = self._real.deepcopy(value, memo)
        return self._copies[id(value)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _copy_each_table_once(method: Callable[..., Any]) -> Callable[..., Any]:
    import moto.dynamodb.models as models

    @functools.wraps(method)
    def once(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:  # the swap is only ever seen by the one transaction holding the lock
            real = models.copy
            models.copy = _CopyOnce(real, models.Table)
            try:
                return method(*args, **kwargs)
            finally:
                models.copy = real
    return once


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
    """Idempotent: wrap moto's DynamoDB item operations in the lock (once per process)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    DynamoDBBackend.transact_write_items = _stream_kept_on_cancel(
        _copy_each_table_once(DynamoDBBackend.transact_write_items))
    for name in _OPERATIONS:
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    # Stream reads too: a reader must never see the records of a transaction half-applied
    # (and then rolled back), which real DynamoDB never publishes.
    for name in ("get_shard_iterator", "get_records"):
        setattr(DynamoDBStreamsBackend, name, _serialised(getattr(DynamoDBStreamsBackend, name)))
    _installed = True
