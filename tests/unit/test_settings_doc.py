"""docs/settings.md lists exactly the settings chalicelib/runtime/settings.py declares: the
same names, types, local defaults and AWS rule. A setting added to the code without its row,
or a row whose default drifted, fails here."""
from __future__ import annotations

import re
from pathlib import Path

from chalicelib.runtime.settings import CONNECTOR_SETTINGS, declared

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
SECTION = "## Settings of the deployed code"


def documented() -> dict[str, tuple[str, str | None, bool]]:
    """name -> (type, local default or None for unset, required in AWS), from the table of
    the section: the first backticked value of the default column, unless it says unset."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str | None, bool]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 5:
            continue
        names, kind, default, required, _ = cells
        value = None if default.startswith("unset") else re.match(r"`([^`]*)`", default).group(1)  # type: ignore[union-attr]
        for name in re.findall(r"`([^`]+)`", names):
            rows[name] = (kind, value, {"yes": True, "no": False}[required])
    return rows


def declarations() -> dict[str, tuple[str, str | None, bool]]:
    return {name: (spec.kind, spec.local, spec.required_in_aws)
            for spec in [*declared(), *CONNECTOR_SETTINGS] for name in spec.names}


def test_the_settings_table_names_every_declared_setting_and_no_other():
    assert sorted(documented()) == sorted(declarations())


def test_each_row_gives_the_declared_type_local_default_and_aws_rule():
    doc, code = documented(), declarations()
    assert {name: doc[name] for name in code if name in doc} == code


def test_the_connector_settings_of_the_packaged_configuration_follow_the_documented_pattern():
    from chalicelib.sync.rules.connectors import systems
    pattern = re.compile(r"MOTCUA_CONNECTOR_[A-Z0-9_]+_(URL|SECRET)")
    named = [name for system in systems().values() for name in (system.url_setting, system.secret_setting)]
    assert named and all(pattern.fullmatch(name) for name in named)
