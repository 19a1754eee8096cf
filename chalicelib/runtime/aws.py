"""Lazily created boto3 clients, shared by a warm Lambda.

boto3 is imported on first use so that a cold start that never touches S3 or EventBridge
does not pay for it. In the local stage every client points at the moto endpoint.
"""
from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.runtime import cold_start
from chalicelib.runtime.settings import settings

_local = threading.local()


def botocore_session() -> Any:
    """One botocore session per thread for every client we and pynamodb create.

    One session, sharing its clients (chalicelib.runtime.cold_start), means the DynamoDB
    service model is parsed once per container. Per thread, because botocore sessions are
    not safe for creating clients from several threads (the local stack serves requests and
    runs the dispatcher in threads)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = cold_start.client_sharing_session()
    return session


@cache
def dynamodb_connection() -> Any:
    """The pynamodb Connection for transactions and raw DynamoDB calls, one per warm Lambda.

    Its botocore client is the one pynamodb's models use too (same session, same arguments),
    and the consumers hand it to Powertools idempotency, so a cold start builds one DynamoDB
    client rather than two (each costs about 50 ms of CPU)."""
    from pynamodb.connection import Connection

    cold_start.share_session_with_pynamodb(botocore_session)
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
