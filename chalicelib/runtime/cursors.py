"""Opaque page cursors over DynamoDB keys, shared by every store that pages a Query.

A cursor is the last evaluated key, JSON in URL-safe base64. It is checked on the way back
in: it must name exactly the expected key attributes, all strings, and the partition value
of the list it came from, so a cursor of another list (or a forged one) is refused.
"""
from __future__ import annotations

import base64
import json
from typing import Any


class BadCursor(Exception):
    """The cursor is not one this list handed out."""


def encode_cursor(key: dict[str, Any]) -> str:
    raw = json.dumps(key, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key_name: str, key_value: str, sort_name: str = "list_sk") -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        expected = {"pk", "sk", key_name, sort_name}
        if not isinstance(key, dict) or set(key) != expected or key[key_name] != {"S": key_value}:
            raise ValueError
        if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()):
            raise ValueError
        return key
    except (ValueError, UnicodeDecodeError, TypeError):
        raise BadCursor() from None
