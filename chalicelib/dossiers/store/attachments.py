"""Attachment uploads: presigned S3 PUT URLs out, existence checks in.

The file never passes through the API; the client PUTs it to S3 with the URL we sign. Keys
are namespaced by a hash of the uploader, so one citizen cannot attach another's upload.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from chalicelib.runtime import aws
from chalicelib.runtime import resources
from chalicelib.runtime.settings import settings
from chalicelib.dossiers.rules.submission import safe_file_name
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.dossiers.rules.file_types import ALLOWED_CONTENT_TYPES, HEAD_BYTES, matches, total_size
from datetime import UTC

@dataclass(frozen=True)
class UploadRequest:
    name: str
    content_type: str
    size: int


def validate_upload_request(body: Any) -> UploadRequest:
    if not isinstance(body, Mapping):
        raise ValidationFailed(fields={"body": "Phải là đối tượng JSON."})
    errors: dict[str, str] = {}
    name = safe_file_name(body.get("name"))
    if name is None:
        errors["name"] = "Tên tệp không hợp lệ (1–255 ký tự, không chứa đường dẫn)."
    content_type = body.get("content_type")
    if not isinstance(content_type, str) or content_type not in ALLOWED_CONTENT_TYPES:  # a dict is unhashable
        errors["content_type"] = "Chỉ chấp nhận tệp PDF, JPEG, PNG, DOCX hoặc XLSX."
    size = body.get("size")
    limit = settings().upload_max_bytes
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        errors["size"] = "Kích thước tệp (byte) phải là số nguyên dương."
    elif size > limit:
        errors["size"] = f"Tệp vượt quá dung lượng tối đa {limit // 1_048_576} MB."
    if errors:
        raise ValidationFailed(fields=errors)
    return UploadRequest(name=name, content_type=content_type, size=size)  # type: ignore[arg-type]


def _owner_prefix(owner_sub: str) -> str:
    return hashlib.sha256(owner_sub.encode()).hexdigest()[:24]


def object_key(owner_sub: str, upload_id: str) -> str:
    return f"{resources.UPLOADS_PREFIX}{_owner_prefix(owner_sub)}/{upload_id}"


def bucket() -> str:
    cfg = settings()
    return cfg.attachments_bucket or cfg.name(resources.ATTACHMENTS_BUCKET)


def presign_upload(owner_sub: str, request: UploadRequest) -> dict[str, Any]:
    upload_id = uuid.uuid4().hex
    ttl = settings().upload_url_ttl_seconds
    url = aws.client("s3").generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket(), "Key": object_key(owner_sub, upload_id), "ContentType": request.content_type},
        ExpiresIn=ttl,
    )
    return {
        "upload_id": upload_id,
        "upload_url": url,
        "method": "PUT",
        "headers": {"Content-Type": request.content_type},
        "expires_in": ttl,
        "max_bytes": settings().upload_max_bytes,
    }


def missing_uploads(owner_sub: str, attachments: list[dict[str, str]], *, key: str = "attachments") -> dict[str, str]:
    """One ranged S3 GET (the first bytes) per attachment; field errors for those that are
    absent, too big, of a type we do not take, or whose bytes are not of the declared type.
    """
    from botocore.exceptions import ClientError

    if not attachments:
        return {}  # no S3 client (and no cold-start cost for it) when nothing is attached
    s3 = aws.client("s3")
    errors: dict[str, str] = {}
    for i, attachment in enumerate(attachments):
        try:
            head = s3.get_object(Bucket=bucket(), Key=object_key(owner_sub, attachment["upload_id"]),
                                 Range=f"bytes=0-{HEAD_BYTES - 1}")
        except ClientError as error:
            empty = error.response.get("Error", {}).get("Code") == "InvalidRange"   # a 0-byte object
            errors[f"{key}[{i}]" if empty else f"{key}[{i}].upload_id"] = (
                "Tệp rỗng." if empty else "Không tìm thấy tệp đã tải lên; vui lòng tải tệp lên trước khi nộp.")
            continue
        size = total_size(head.get("ContentRange"), head.get("ContentLength", 0))
        if size > settings().upload_max_bytes:
            errors[f"{key}[{i}]"] = "Tệp vượt quá dung lượng cho phép."
        elif head.get("ContentType") not in ALLOWED_CONTENT_TYPES:
            errors[f"{key}[{i}]"] = "Loại tệp không được chấp nhận."
        elif not matches(head.get("ContentType"), head["Body"].read(HEAD_BYTES)):
            errors[f"{key}[{i}]"] = "Nội dung tệp không đúng với loại tệp đã khai báo."
    return errors


def presign_download(uploader_sub: str, upload_id: str, name: str) -> dict[str, Any]:
    """A short-lived GET URL for one stored file; the bucket itself stays private."""
    from datetime import datetime, timedelta

    from chalicelib.kernel.working_days import iso, to_local

    ttl = settings().download_url_ttl_seconds
    url = aws.client("s3").generate_presigned_url(
        "get_object", ExpiresIn=ttl,
        Params={"Bucket": bucket(), "Key": object_key(uploader_sub, upload_id),
                "ResponseContentDisposition": content_disposition(name)})
    return {"url": url, "expires_at": iso(to_local(datetime.now(UTC) + timedelta(seconds=ttl))),
            "name": name}


def content_disposition(name: str) -> str:
    """``attachment`` with the Vietnamese name as RFC 5987 UTF-8 and an ASCII fallback."""
    from urllib.parse import quote
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
