"""Public file links: how the national portal downloads a dossier's files.

The portal fetches every submitted file (``DuongDanTaiTepTin``) and result document
(``DuongDanTepTinKetQua``) by URL, with no MotCua account, and may fetch it long after the
dossier was synced; the national index counts an electronic result only when its link works
(national-portal.md §3, §5). A presigned S3 URL would do neither: it dies in minutes and
names the bucket. So a file gets ``{MOTCUA_PUBLIC_URL}/files/{token}``:

* the token is 256 random bits (``secrets.token_urlsafe``): unguessable, and it says nothing
  about the dossier or the bucket;
* the same file keeps the same link while it is valid (``MOTCUA_FILE_LINK_TTL_DAYS``, 365 by
  default); an expired or revoked link is replaced by a new one at the next sync;
* ``GET /files/{token}`` needs no token of a user: it answers 302 to a presigned URL made for
  that request (``MOTCUA_DOWNLOAD_URL_TTL`` seconds), so the file itself never passes through
  the API and its size is not limited by the gateway;
* every download is an audited sensitive read (``file_link.download``), as an officer's is;
* a link stops working (410 ``file_link_revoked``) when it is revoked (``revoke_dossier``: the
  retention purge of the dossier's files), when the file is no longer one of the dossier's
  files, and (410 ``file_link_expired``) after its validity.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.dossiers.rules.records import Dossier
from chalicelib.dossiers.rules.submission import stored_file, uploader_of
from chalicelib.dossiers.store import dossiers as dossier_store
from chalicelib.dossiers.store import file_links as store
from chalicelib.kernel.errors import Gone, NotFound
from chalicelib.kernel.working_days import iso, parse_iso
from chalicelib.runtime.settings import settings
from chalicelib.trust.rules.audit import Actor

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")     # secrets.token_urlsafe(32)
FORGET_AFTER = timedelta(days=90)           # an expired link answers 410 this long, then 404
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def url_of(token: str) -> str:
    return f"{settings().public_url}/files/{token}"


def _valid(link: store.FileLink | None, now: datetime) -> bool:
    return link is not None and link.revoked_at is None and parse_iso(link.expires_at) > now


def link_for(dossier: Mapping[str, Any], item: Mapping[str, Any], *, clock: Clock = utc_now) -> str:
    """The public link of one of the dossier's files: its current one while valid, else a new one."""
    now = clock()
    found = store.current(dossier["code"], item["upload_id"])
    if found is not None and _valid(found, now):
        return url_of(found.token)
    expires = now + timedelta(days=settings().file_link_ttl_days)
    link = store.FileLink(token=secrets.token_urlsafe(32), dossier_code=dossier["code"], upload_id=item["upload_id"],
                          issued_at=iso(now), expires_at=iso(expires), revoked_at=None)
    store.save(link, forget_at=expires + FORGET_AFTER)
    return url_of(link.token)


def linker(dossier: Mapping[str, Any], *, clock: Clock = utc_now) -> Callable[[Mapping[str, Any]], str]:
    """The link function the national records are built with, for this dossier's files."""
    return lambda item: link_for(dossier, item, clock=clock)


LINK_READER = Actor("public-link", "public")   # whoever holds the link: the national portal
NOT_FOUND = NotFound("Không tìm thấy tệp với đường dẫn này.", code="file_link_not_found")


def open_link(token: str, *, clock: Clock = utc_now) -> str:
    """A presigned URL of the file ``token`` serves, made now; NotFound for a token that never
    was, Gone for one that was revoked or expired or whose file is no longer the dossier's."""
    from chalicelib.dossiers.store.attachments import presign_download
    from chalicelib.trust.use_cases import audit as audit_log

    link = store.by_token(token) if TOKEN.fullmatch(token) else None
    if link is None:
        raise NOT_FOUND
    if link.revoked_at is not None:
        raise Gone("Đường dẫn tệp này đã bị thu hồi.", code="file_link_revoked")
    if parse_iso(link.expires_at) <= clock():
        raise Gone("Đường dẫn tệp này đã hết hạn.", code="file_link_expired")
    dossier = dossier_store.get_dossier(link.dossier_code)
    item = stored_file(dossier, link.upload_id) if dossier and not dossier.get("attachments_purged_at") else None
    if dossier is None or item is None:
        raise Gone("Tệp này không còn thuộc hồ sơ.", code="file_link_revoked")
    audit_log.append_read(LINK_READER, "file_link.download", dossier_code=dossier["code"],
                          detail={"upload_id": link.upload_id, "link_issued_at": link.issued_at})
    return str(presign_download(uploader_of(dossier, link.upload_id), link.upload_id, item["name"])["url"])


def revoke_dossier(dossier: Dossier | Mapping[str, Any], *, clock: Clock = utc_now) -> int:
    """Revoke every link of the dossier's files (its files were erased). Returns how many."""
    links = [link for link in store.of_dossier(dossier["code"]) if link.revoked_at is None]
    for link in links:
        store.revoke(link, iso(clock()))
    return len(links)
