"""What an uploaded file really is: allowed content types and their magic bytes. Pure.

Written by hand because we need only five signatures, each within the first 8 bytes, so the
upload check is one small ranged GET; libraries (filetype, puremagic) want more of the file
(their OOXML detection reads zip entries) or libmagic. DOCX and XLSX are zip containers: both
start with ``PK\\x03\\x04``, and which one the zip holds is left to the declared type.
"""
from __future__ import annotations

import re

ALLOWED_CONTENT_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "image/jpeg": "jpeg",
    "image/png": "png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
ZIP = b"PK\x03\x04"
SIGNATURES: dict[str, bytes] = {
    "pdf": b"%PDF-",
    "jpeg": b"\xff\xd8\xff",
    "png": b"\x89PNG\r\n\x1a\n",
    "docx": ZIP,
    "xlsx": ZIP,
}
HEAD_BYTES = max(len(signature) for signature in SIGNATURES.values())


def matches(content_type: str | None, head: bytes) -> bool:
    """True when the file's first bytes are those of its declared (allowed) type."""
    kind = ALLOWED_CONTENT_TYPES.get(content_type or "")
    return kind is not None and head.startswith(SIGNATURES[kind])


def total_size(content_range: str | None, fallback: int) -> int:
    """The object's full size from a ranged GET's ``Content-Range: bytes 0-7/12345``."""
    found = re.fullmatch(r"bytes \d+-\d+/(\d+)", content_range or "")
    return int(found.group(1)) if found else fallback
