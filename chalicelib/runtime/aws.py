"""Lazily created boto3 clients, shared by a warm Lambda.

boto3 is imported on first use so that a cold start that never touches S3 or EventBridge
does not pay for it. In the local stage every client points at the moto endpoint.
"""
from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.runtime.settings import settings

_local = threading.local()


def botocore_session() -> Any:
    """One botocore session per thread for every client we and pynamodb create.

    pynamodb makes a new session and client for each model's connection, and each one
    parses the DynamoDB service model and endpoint data again (about 0.1-0.2 s each on a
    cold Lambda). With one session, and one client per distinct set of client arguments,
    that happens once per container. Per thread, because botocore sessions are not safe
    for creating clients from several threads (the local stack serves requests and runs
    the dispatcher in threads)."""
    session = getattr(_local, "session", None)
    if session is None:
        settle_cold_start()
        session = _local.session = _client_sharing_session()
    return session


@cache
def settle_cold_start() -> None:
    """Once per process, before the first AWS client: move every object that exists so far
    (the modules, classes and functions the cold start imported) into the garbage
    collector's permanent generation, ``gc.freeze()``.

    They live as long as the container, yet each full collection walks them again, and
    building the first client (about 1 MB of botocore JSON turned into dicts) triggers
    several. Frozen, they are skipped: about 15 ms less CPU on every Lambda cold start
    (``make bench``, cold-start rows). Only cyclic garbage among them would stay
    uncollected, and at this point there is next to none."""
    import gc

    gc.freeze()


def _client_sharing_session() -> Any:
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


def share_session_with_pynamodb() -> None:
    """Make pynamodb's connections use ``botocore_session()`` (it looks the function up on
    each new connection)."""
    import pynamodb.connection.base as pynamodb_connection
    pynamodb_connection.get_session = botocore_session


@cache
def dynamodb_connection() -> Any:
    """The pynamodb Connection for transactions and raw DynamoDB calls, one per warm Lambda.

    Its botocore client is the one pynamodb's models use too (same session, same arguments),
    and the consumers hand it to Powertools idempotency, so a cold start builds one DynamoDB
    client rather than two (each costs about 50 ms of CPU)."""
    from pynamodb.connection import Connection

    share_session_with_pynamodb()
    cfg = settings()
    return Connection(region=cfg.region, host=cfg.aws_endpoint_url)


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 4}}
    if service == "s3":
        options["s3"] = {"addressing_style": "path"}
        options["signature_version"] = "s3v4"
    return _boto3_session(boto3).client(
        service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url, config=Config(**options)
    )


def _boto3_session(boto3: Any) -> Any:
    """One boto3 session over the thread's botocore session: each new boto3 session would
    register boto3's S3 customisations on it again, which botocore refuses the second time."""
    session = getattr(_local, "boto3_session", None)
    if session is None or session._session is not botocore_session():
        session = _local.boto3_session = boto3.session.Session(botocore_session=botocore_session())
    return session


def reset() -> None:
    """Forget cached clients (tests switch endpoints between moto modes)."""
    client.cache_clear()
