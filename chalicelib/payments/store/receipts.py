"""Receipt PDFs in the attachments bucket: written by the receipts consumer, handed out by the API.

The PDF is drawn off the request path (handlers/receipts.py, on PaymentSucceeded), so the
API package needs no PDF library; the API answers with a short-lived presigned GET for the
stored file, or 409 ``receipt_not_ready`` until the consumer has stored it. One object per
payment, ``receipts/{payment_id}.pdf``: a re-delivered event writes the same bytes again.
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from typing import Any

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.dossiers.store.attachments import bucket
from chalicelib.kernel.working_days import iso
from chalicelib.runtime.settings import settings
from chalicelib.kernel.errors import Conflict
from chalicelib.payments.rules.records import Receipt

PDF = "application/pdf"


def object_key(payment_id: str) -> str:
    return f"{resources.RECEIPTS_PREFIX}{payment_id}.pdf"


def file_name(record: Receipt) -> str:
    return f"{record['number']}.pdf"


def _disposition(record: Receipt) -> str:
    return f'attachment; filename="{file_name(record)}"'


def store(record: Receipt, pdf: bytes) -> None:
    """Write the receipt of ``record`` (payment_rules.receipt) where the API looks for it."""
    aws.client("s3").put_object(Bucket=bucket(), Key=object_key(record["payment_id"]), Body=pdf,
                                ContentType=PDF, ContentDisposition=_disposition(record))


def download_link(record: Receipt, *, now: datetime | None = None) -> dict[str, Any]:
    """A presigned GET for the stored receipt: one S3 HEAD, the signing needs no call.
    409 ``receipt_not_ready`` while the consumer has not stored it yet."""
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    key = object_key(record["payment_id"])
    try:
        s3.head_object(Bucket=bucket(), Key=key)
    except ClientError as error:
        # Without s3:ListBucket (the API has none) S3 answers a missing key with 403, not 404.
        if error.response.get("Error", {}).get("Code") not in ("404", "403", "NoSuchKey", "NotFound", "AccessDenied"):
            raise
        raise Conflict("Biên lai đang được lập, vui lòng thử lại sau ít giây.", code="receipt_not_ready") from None
    ttl = settings().receipt_url_ttl_seconds
    url = s3.generate_presigned_url("get_object", ExpiresIn=ttl, Params={
        "Bucket": bucket(), "Key": key, "ResponseContentType": PDF,
        "ResponseContentDisposition": _disposition(record)})
    expires = (now or datetime.now(UTC)) + timedelta(seconds=ttl)
    return {"number": record["number"], "file_name": file_name(record), "url": url,
            "expires_at": iso(expires)}
