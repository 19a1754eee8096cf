"""Every relative link in the documentation leads somewhere.

The README and docs/ point a newcomer at files, folders and sections; a link broken by a
move (the layout changes, a doc is split) sends them nowhere. Links inside code blocks and
inline code are examples, not links, and are skipped; web links are not fetched.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMED = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "payments/README.md")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)   # https:, mailto:, …


def documents() -> list[Path]:
    return [ROOT / name for name in NAMED] + sorted((ROOT / "docs").rglob("*.md"))


def prose(text: str) -> str:
    """The text a reader sees as prose: code blocks and code spans removed."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    text = prose(path.read_text(encoding="utf-8"))
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def relative_links(path: Path) -> list[tuple[str, Path, str]]:
    """(link as written, the file it names, its #anchor or '') for every relative link."""
    found = []
    for link in links(path):
        if EXTERNAL.match(link):
            continue
        target, _, anchor = link.partition("#")
        found.append((link, (path.parent / target).resolve() if target else path, anchor))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading.strip()).lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", path.read_text(encoding="utf-8")),
                          re.MULTILINE)
    return {slug(heading) for heading in headings}


@pytest.mark.parametrize("name", (*NAMED, "docs"))
def test_each_linked_document_exists(name: str) -> None:
    assert (ROOT / name).exists(), f"{name} is missing"


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_to_a_file_in_the_repository(document: Path) -> None:
    broken = [link for link, target, _ in relative_links(document) if not target.exists()]
    outside = [link for link, target, _ in relative_links(document) if ROOT not in target.parents and target != ROOT]
    assert not broken, f"{document.relative_to(ROOT)}: links to nothing: {broken}"
    assert not outside, f"{document.relative_to(ROOT)}: links outside the repository: {outside}"


@pytest.mark.parametrize("document", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_section_link_names_a_heading_of_its_page(document: Path) -> None:
    broken = [link for link, target, anchor in relative_links(document)
              if anchor and target.suffix == ".md" and target.exists() and anchor not in anchors(target)]
    assert not broken, f"{document.relative_to(ROOT)}: no such section: {broken}"


def test_the_link_finder_sees_links_and_skips_code() -> None:
    sample = "See [a](docs/a.md#x) and `[b](nowhere.md)`.\n```\n[c](nowhere.md)\n```\n[d]: ../e.md\n"
    text = prose(sample)
    assert INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text) == ["docs/a.md#x", "../e.md"]
    assert slug("7. Online payment") == "7-online-payment"
    assert slug("Privacy: logs, `data` export") == "privacy-logs-data-export"
