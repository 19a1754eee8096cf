"""Everything MotCua does only to make a Lambda cold start cheaper, and what each measure buys.

A cold start (import + first invocation) is budgeted at 1.5x ``import boto3`` + one client
(``make bench``, cold-start rows). Production code calls the measures below rather than
carrying them itself, so each can be judged, and dropped, here. ``make bench`` also runs a
function with each measure undone (motcua/bench.py ``WITHOUT``) and prints the CPU each one
saves per cold start; a measure whose saving the bench no longer shows is dropped, as
``gc.freeze()`` before the first AWS client was in December 2026 (12 ms, then -6 and -0.4 ms
over three runs). On Python 3.13 (2 cores, AMD EPYC, December 2026) it measured:

* ``client_sharing_session`` with ``share_session_with_pynamodb``: one botocore session and
  one client per set of client arguments for us, pynamodb's models and Powertools
  idempotency, 180 ms for the API's POST /dossiers (each extra DynamoDB client in a session
  of its own parses the service model again, about 70 ms);
* ``partial_batch``: SQS partial batch failures without Powertools' batch utility, 24 to
  39 ms for a queue consumer;
* not a function but an import order, so it stays in handlers/__init__.py: boto3 loaded
  first, which on a CPython without the fix for python/cpython#142183 (3.13.0 here; Lambda's
  python3.13 has it) keeps refund-watch at 1.29x instead of 1.55x of the reference.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

Record = dict[str, Any]


def client_sharing_session() -> Any:
    """A botocore session that creates one client per distinct set of client arguments.

    pynamodb makes a new client for each model's connection, and each one parses the
    DynamoDB service model and endpoint data again (about 0.1-0.2 s on a cold Lambda). The
    key includes what the caller put in its ``Config``, which botocore keeps only in the
    private ``_user_provided_options``: two clients that differ there are different clients.
    Not safe for creating clients from several threads, like any botocore session: one per
    thread (chalicelib.runtime.aws.botocore_session)."""
    from botocore.session import Session

    class ClientSharingSession(Session):
        def __init__(self) -> None:
            super().__init__()
            self._clients: dict[str, Any] = {}

        def create_client(self, *args: Any, **kwargs: Any) -> Any:
            config = kwargs.get("config")
            options = sorted(getattr(config, "_user_provided_options", {}).items(), key=lambda kv: kv[0])
            key = repr((args, sorted((k, v) for k, v in kwargs.items() if k != "config"), options))
            if key not in self._clients:
                self._clients[key] = super().create_client(*args, **kwargs)
            return self._clients[key]

    return ClientSharingSession()


def share_session_with_pynamodb(get_session: Callable[[], Any]) -> None:
    """Make pynamodb's connections take their botocore session from ``get_session``.

    pynamodb has no setting for it; it looks ``pynamodb.connection.base.get_session`` up on
    each new connection, so replacing that function is enough."""
    import pynamodb.connection.base as pynamodb_connection

    pynamodb_connection.get_session = get_session


def partial_batch(records: list[Record], handle: Callable[[Record], Any],
                  on_failure: Callable[[Record], None]) -> list[Record]:
    """The records of an SQS batch whose ``handle`` raised, each failure contained to itself
    (``on_failure`` runs inside the ``except``, so it can log the exception).

    Written here rather than with Powertools' ``BatchProcessor``: importing
    ``aws_lambda_powertools.utilities.batch`` loads every event data class and asyncio, for
    a contract this small (SQS records in, the failed ones out)."""
    failed = []
    for record in records:
        try:
            handle(record)
        except Exception:  # whatever one record raises is that record's failure
            on_failure(record)
            failed.append(record)
    return failed
