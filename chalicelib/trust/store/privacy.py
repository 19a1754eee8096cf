"""Repository for the privacy tools: find a citizen's dossiers, the delivery records of their
notifications, the dossiers due for purge, and the files themselves. Queries only, no Scan."""
from __future__ import annotations

from typing import Any
from collections.abc import Iterator

from chalicelib.runtime import aws
from chalicelib.dossiers.store import dossiers as store
from chalicelib.dossiers.store.attachments import bucket, object_key
from chalicelib.runtime.models import ApplicantItem, DossierItem, NotificationItem
from chalicelib.trust.rules.privacy import StoredFile, notification_view
from chalicelib.dossiers.rules.records import Dossier


def dossier_codes_of(id_number: str) -> list[str]:
    """Codes of every dossier whose applicant had this id number. One Query."""
    return [item.code for item in ApplicantItem.query(store.applicant_pk(id_number))]


def notifications_of(code: str) -> list[dict[str, Any]]:
    """What was sent about a dossier, per event and channel (kept 30 days, see notify_store)."""
    query = NotificationItem.query(store.dossier_pk(code), NotificationItem.sk.startswith("NOTIFY#"))
    return [notification_view(item.sk, item.state, item.at, item.provider_id) for item in query]


def closed_before(agency_id: str, cutoff_iso: str) -> Iterator[Dossier]:
    """Dossiers of an agency closed before ``cutoff_iso`` whose files are still held: a Query
    on the sparse ``closed_by_agency`` index (purged dossiers have left it)."""
    yield from store.whole_dossiers(DossierItem.closed_by_agency.query(agency_id, DossierItem.gsi_closed_at < cutoff_iso))


def save_purged(dossier: Dossier) -> None:
    """Write the purge mark, only if nobody changed the dossier since it was read (same
    version). No outbox event: the change means nothing to consumers or counters."""
    store.put_unversioned_change(dossier)


def file_key(file: StoredFile) -> str:
    return object_key(file.uploaded_by, file.upload_id)


def delete_files(files: list[StoredFile]) -> int:
    """Delete the objects (all their versions expire by the bucket's lifecycle). Deleting an
    absent key succeeds, so a purge interrupted half-way can simply run again."""
    s3 = aws.client("s3")
    keys = [file_key(file) for file in files]
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        answer = s3.delete_objects(Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        if answer.get("Errors"):
            raise RuntimeError(f"S3 refused to delete {len(answer['Errors'])} object(s)")
    return len(keys)


def read_file(file: StoredFile) -> bytes | None:
    """The file's bytes, or None if it is gone (purged, never uploaded)."""
    from botocore.exceptions import ClientError
    try:
        return aws.client("s3").get_object(Bucket=bucket(), Key=file_key(file))["Body"].read()
    except ClientError:
        return None
