"""Pure rules behind uploads (magic bytes, real size) and rate limits (fixed windows)."""
from __future__ import annotations

from chalicelib.dossiers.rules.file_types import HEAD_BYTES, matches, total_size
from chalicelib.trust.rules.rate_limits import Limit


def test_magic_bytes_must_match_the_declared_type():
    assert matches("application/pdf", b"%PDF-1.7")
    assert matches("image/png", b"\x89PNG\r\n\x1a\n")
    assert matches("image/jpeg", b"\xff\xd8\xff\xdb")
    assert not matches("image/png", b"%PDF-1.7")
    assert not matches("application/pdf", b"MZ\x90\x00")        # an executable named .pdf
    assert not matches("text/html", b"<html>")                   # not an accepted type at all
    assert not matches("application/pdf", b"")
    assert HEAD_BYTES == 8


def test_the_real_size_comes_from_content_range():
    assert total_size("bytes 0-7/20971521", 8) == 20971521
    assert total_size("bytes 0-4/5", 5) == 5
    assert total_size(None, 3) == 3


def test_fixed_windows_align_and_say_how_long_to_wait():
    limit = Limit("track-code", 5, 900)
    assert limit.window(1_800_000_123) == 1_800_000_000 == limit.window(1_800_000_899)
    assert limit.window(1_800_000_900) == 1_800_000_900
    assert limit.retry_after(1_800_000_000) == 900 and limit.retry_after(1_800_000_899) == 1
    assert limit.key("X-1", 1_800_000_123) == "RATE#track-code#X-1#1800000000"
    assert limit.expires(1_800_000_123) == 1_800_000_960
