"""Lazily created boto3 clients, shared by a warm Lambda.

boto3 is imported on first use so that a cold start that never touches S3 or EventBridge
does not pay for it. In the local stage every client points at the moto endpoint.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 4}}
    if service == "s3":
        options["s3"] = {"addressing_style": "path"}
        options["signature_version"] = "s3v4"
    return boto3.session.Session().client(
        service, region_name=cfg.region, endpoint_url=cfg.aws_endpoint_url, config=Config(**options)
    )


def reset() -> None:
    """Forget cached clients (tests switch endpoints between moto modes)."""
    client.cache_clear()
