"""The one place text from outside is checked: hidden characters, NFC, ASCII digits."""
from __future__ import annotations

import unicodedata

import pytest

from chalicelib.kernel.text import clean_json, hidden_character, is_ascii_digits, is_phone, single_line_problem


@pytest.mark.parametrize("text, found", [
    ("Nguyễn Văn An", None), ("dòng 1\ndòng 2\r\n\tcột", None), ("a\x00b", "U+0000"), ("\x07", "U+0007"),
    ("\x1b[2J", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085"), ("\x9f", "U+009F"), ("x\u202ey", "U+202E"),
    ("\u202a", "U+202A"), ("\u2066", "U+2066"), ("\u2069", "U+2069"), ("\u200b", None), ("\u2065", None),
])
def test_hidden_characters_are_found_and_ordinary_text_passes(text, found):
    assert hidden_character(text) == found


def test_names_refuse_line_breaks_that_text_allows():
    assert single_line_problem("Nguyễn\nAn") and single_line_problem("a\tb") and single_line_problem("Nguyễn An") is None


def test_clean_json_normalises_every_string_and_key_to_nfc_and_names_each_bad_field():
    nfd = unicodedata.normalize("NFD", "Tuyết")
    value, problems = clean_json({"applicant": {"full_name": nfd, nfd: [nfd, 1.5, None, True]},
                                  "attachments": [{"name": "a\u202etxt.exe"}], "k\x00": "v"})
    assert value == {"applicant": {"full_name": "Tuyết", "Tuyết": ["Tuyết", 1.5, None, True]},
                     "attachments": [{"name": "a\u202etxt.exe"}], "k\x00": "v"}
    assert set(problems) == {"attachments[0].name", "k\\x00"}


@pytest.mark.parametrize("text, ok", [("0912345678", True), ("０９１２", False), ("٠١٢", False), ("०१२", False),
                                      ("²", False), ("", False), ("12a", False)])
def test_identifiers_are_ascii_digits_only(text, ok):
    assert is_ascii_digits(text) is ok


@pytest.mark.parametrize("text, ok", [
    ("0912345678", True), ("02363822123", True), ("+84912345678", True), ("+842363822123", True),
    ("091234567", False), ("091234567890", False), ("84912345678", False), ("0912345678\n", False),
    ("０９１２３４５６７８", False), ("0912 345 678", False), ("+84 912345678", False), ("", False),
])
def test_a_phone_is_0_or_plus84_then_9_or_10_ascii_digits_and_nothing_else(text, ok):
    assert is_phone(text) is ok
