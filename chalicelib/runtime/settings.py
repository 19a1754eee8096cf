"""Settings, read once from the environment.

Every setting has a documented default (see README, "Settings") so that a fresh clone runs
with no configuration. Local defaults are deliberately fake and must never reach AWS.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.runtime.names import physical_name

LOCAL_STAGE = "local"
FAKE_LOCAL_JWT_SECRET = "local-only-not-a-secret-change-me"
FAKE_ID_HASH_KEY = "local-only-id-hash-key-not-a-secret"   # chalicelib.runtime.credentials.id_hash_key
DEFAULT_ATTACHMENT_RETENTION_YEARS = 5


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    aws_endpoint_url: str | None
    local_jwt_secret: str
    workday_end: str
    calendar_extras_file: str | None
    max_body_bytes: int
    upload_max_bytes: int
    upload_url_ttl_seconds: int
    download_url_ttl_seconds: int
    catalogue_cache_seconds: int
    idempotency_ttl_seconds: int
    track_per_ip: int
    track_failures_per_code: int
    track_failure_window_seconds: int
    audit_retention_days: int = 3650         # infra/ sets it from the stage's audit_retention_days
    attachments_bucket: str | None = None   # set by infra/: S3 names are global, so AWS picks it
    attachment_retention_years: int = DEFAULT_ATTACHMENT_RETENTION_YEARS
    receipt_url_ttl_seconds: int = 300

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE

    def name(self, resource: str) -> str:
        """Physical name of a resource for this stage, e.g. ``motcua-local-dossiers``."""
        return physical_name(self.stage, resource)


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@lru_cache(maxsize=1)
def settings() -> Settings:
    stage = os.environ.get("MOTCUA_STAGE", LOCAL_STAGE)
    endpoint = os.environ.get("MOTCUA_AWS_ENDPOINT") or None
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "ap-southeast-1",
        aws_endpoint_url=endpoint,
        local_jwt_secret=os.environ.get("MOTCUA_LOCAL_JWT_SECRET", FAKE_LOCAL_JWT_SECRET),
        workday_end=os.environ.get("MOTCUA_WORKDAY_END", "17:00"),
        calendar_extras_file=os.environ.get("MOTCUA_CALENDAR_EXTRAS") or None,
        max_body_bytes=_int("MOTCUA_MAX_BODY_BYTES", 1_048_576),
        upload_max_bytes=_int("MOTCUA_UPLOAD_MAX_BYTES", 20 * 1_048_576),
        upload_url_ttl_seconds=_int("MOTCUA_UPLOAD_URL_TTL", 900),
        download_url_ttl_seconds=_int("MOTCUA_DOWNLOAD_URL_TTL", 300),
        catalogue_cache_seconds=_int("MOTCUA_CATALOGUE_CACHE_SECONDS", 60),
        idempotency_ttl_seconds=_int("MOTCUA_IDEMPOTENCY_TTL", 24 * 3600),
        track_per_ip=_int("MOTCUA_TRACK_PER_IP", 10),
        track_failures_per_code=_int("MOTCUA_TRACK_FAILURES_PER_CODE", 5),
        track_failure_window_seconds=_int("MOTCUA_TRACK_FAILURE_WINDOW", 900),
        audit_retention_days=_int("MOTCUA_AUDIT_RETENTION_DAYS", 3650),
        attachments_bucket=os.environ.get("MOTCUA_ATTACHMENTS_BUCKET") or None,
        attachment_retention_years=_int("MOTCUA_ATTACHMENT_RETENTION_YEARS", DEFAULT_ATTACHMENT_RETENTION_YEARS),
        receipt_url_ttl_seconds=_int("MOTCUA_RECEIPT_URL_TTL", 300),
    )
