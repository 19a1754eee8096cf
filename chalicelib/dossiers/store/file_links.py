"""Public file links in the dossiers table: the token's item and the file's pointer to it.

``FILELINK#{token}`` / ``FILELINK`` says which file a token serves, until when, and whether
it was revoked; ``DOSSIER#{code}`` / ``FILELINK#{upload_id}`` holds the file's current token,
so asking twice for one file's link gives the same link. Both items carry a TTL some time
after expiry, so DynamoDB forgets old links by itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.runtime.models import FileLinkItem
from chalicelib.runtime.tables import dossier_pk

LINK_SK = "FILELINK"
POINTER_PREFIX = "FILELINK#"


@dataclass(frozen=True)
class FileLink:
    token: str
    dossier_code: str
    upload_id: str
    issued_at: str
    expires_at: str
    revoked_at: str | None


def _link(item: FileLinkItem) -> FileLink:
    return FileLink(item.token, item.dossier_code, item.upload_id, item.issued_at, item.expires_at, item.revoked_at)


def token_pk(token: str) -> str:
    return f"{POINTER_PREFIX}{token}"


def by_token(token: str) -> FileLink | None:
    try:
        return _link(FileLinkItem.get(token_pk(token), LINK_SK))
    except FileLinkItem.DoesNotExist:
        return None


def current(code: str, upload_id: str) -> FileLink | None:
    """The link the file was last given (valid or not)."""
    try:
        return _link(FileLinkItem.get(dossier_pk(code), f"{POINTER_PREFIX}{upload_id}"))
    except FileLinkItem.DoesNotExist:
        return None


def save(link: FileLink, *, forget_at: datetime) -> None:
    """The token's item, then the file's pointer to it (a lost pointer only costs a new link)."""
    for pk, sk in ((token_pk(link.token), LINK_SK), (dossier_pk(link.dossier_code), f"{POINTER_PREFIX}{link.upload_id}")):
        FileLinkItem(pk, sk, token=link.token, dossier_code=link.dossier_code, upload_id=link.upload_id,
                     issued_at=link.issued_at, expires_at=link.expires_at, revoked_at=link.revoked_at,
                     ttl=forget_at).save()


def of_dossier(code: str) -> list[FileLink]:
    """Every file's current link of a dossier."""
    query = FileLinkItem.query(dossier_pk(code), FileLinkItem.sk.startswith(POINTER_PREFIX))
    return [_link(item) for item in query]


def revoke(link: FileLink, at: str) -> None:
    """Mark the token's item and the file's pointer revoked."""
    for pk, sk in ((token_pk(link.token), LINK_SK), (dossier_pk(link.dossier_code), f"{POINTER_PREFIX}{link.upload_id}")):
        try:
            FileLinkItem(pk, sk).update(actions=[FileLinkItem.revoked_at.set(at)], condition=FileLinkItem.pk.exists())
        except UpdateError:
            continue   # already forgotten (TTL): nothing left to serve
