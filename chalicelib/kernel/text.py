"""What text MotCua accepts from outside, in one place: ASCII digits, no hidden characters, NFC.

Pure. The edge applies ``clean_json`` to every JSON body it decodes (chalicelib/edge/web.py), so
every string a client sends, in any field and any context, has passed here before a rule sees
it; the single-line fields (names, file names) refuse line breaks too (``single_line_problem``).

* **Hidden characters.** C0 control characters (NUL, BEL, ESC and the terminal escapes they
  start) except tab and line breaks, DEL and the C1 controls (U+0080–U+009F) have no place in a
  name or a letter; they were stored and synced to the national portal (issue 18). The bidi
  embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) make ``hồ_sơ‮fdp.exe``
  read as ``hồ_sơexe.pdf``: the "Trojan Source" trick (CVE-2021-42574, Unicode TR #9 §2).
  Each is refused, naming the field.
* **NFC.** Vietnamese can be typed precomposed (``ễ`` U+1EC5) or decomposed (``e`` + U+0302 +
  U+0303); both look the same. Every string is stored in Unicode Normalization Form C (as the
  W3C Character Model recommends, https://www.w3.org/TR/charmod-norm/), so a search, a
  comparison or a national-portal sync never sees two spellings of one name.
* **Digits.** Python's ``\\d`` and ``str.isdigit`` accept fullwidth (U+FF10…), Arabic-Indic
  (U+0660…) and Devanagari (U+0966…) digits, which then reached the national portal and an SMS
  gateway. Identifiers use ``is_ascii_digits`` or ``[0-9]``.
* **Phone numbers.** One pattern for every Vietnamese phone number MotCua takes (a dossier's
  applicant, a feedback's contact, an imported dossier, a legacy account): ``PHONE``.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

# C0 controls but tab, LF, CR; DEL and the C1 controls; the bidi embeddings, overrides
# and isolates. One compiled class each: a body of a megabyte is checked at C speed.
_HIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_HIDDEN_IN_TEXT = re.compile(f"[{_HIDDEN}]")
_HIDDEN_IN_LINE = re.compile(f"[{_HIDDEN}\t\n\r]")
MAX_PROBLEMS = 20   # an answer names at most this many fields
# The national numbering plan (Circular 22/2014/TT-BTTTT): a leading 0, or +84 in its place,
# then 9 digits (mobiles, 10 in all since the 2018 change) or 10 (landlines since the 2017
# area-code change). ASCII digits only.
PHONE = re.compile(r"(?:0|\+84)[0-9]{9,10}")


def is_phone(text: str) -> bool:
    """Whether ``text`` is a whole Vietnamese phone number (callers drop spaces first)."""
    return PHONE.fullmatch(text) is not None


def is_ascii_digits(text: str) -> bool:
    """Only 0-9, at least one (``str.isdigit`` also takes U+FF10, U+0660, U+0966, U+00B2)."""
    return text.isascii() and text.isdigit()


def hidden_character(text: str, *, multiline: bool = True) -> str | None:
    """The first character ``text`` may not hold, as ``U+XXXX``; None when it is clean.
    Tab and line breaks are allowed only in ``multiline`` text."""
    found = (_HIDDEN_IN_TEXT if multiline else _HIDDEN_IN_LINE).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def problem_message(character: str) -> str:
    return f"Chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản ({character}) không được phép."


def single_line_problem(text: str) -> str | None:
    """The Vietnamese message for a name or single-line value holding a forbidden
    character (line breaks included), or None."""
    found = hidden_character(text, multiline=False)
    return problem_message(found) if found else None


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_json(value: Any) -> tuple[Any, dict[str, str]]:
    """``value`` (a decoded JSON document) with every string, keys included, in NFC, and the
    fields holding a forbidden character: ``{"applicant.full_name": message, "attachments[0].name":
    …}``. Walked without recursion (the edge already bounds the depth)."""
    problems: dict[str, str] = {}
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any, str]] = [(value, root, 0, "")]
    while stack:
        node, parent, slot, path = stack.pop()
        if isinstance(node, str):
            found = hidden_character(node)
            if found and len(problems) < MAX_PROBLEMS:
                problems[path or "body"] = problem_message(found)
            parent[slot] = nfc(node)
        elif isinstance(node, dict):
            copy: dict[str, Any] = {}
            parent[slot] = copy
            for key, child in node.items():
                found = hidden_character(key)
                shown = key.encode("unicode_escape").decode("ascii") if found else nfc(key)
                child_path = f"{path}.{shown}" if path else shown
                if found and len(problems) < MAX_PROBLEMS:
                    problems[child_path] = problem_message(found)
                key = nfc(key)
                copy[key] = None
                stack.append((child, copy, key, child_path))
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            parent[slot] = items
            stack.extend((child, items, i, f"{path}[{i}]") for i, child in enumerate(node))
        else:
            parent[slot] = node
    return root[0], problems
